using MasOrleans.Grains.Pods;
using Queue = MasOrleans.Scheduling.Queue;
using MasOrleans.Scheduling.Policies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MasOrleans.Grains;

public static class GrainServices
{
    /// <summary>Everything the grains resolve: options, the policy catalog, the container runtime and a clock.</summary>
    public static IServiceCollection AddMasOrleansGrainServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<TelemetryOptions>(configuration.GetSection("Telemetry"));
        services.AddOptions<SchedulerOptions>().Bind(configuration.GetSection("Scheduler"))
            .Validate(o => Queue.QueueOrders.TryParse(o.QueueOrder, out _), "Scheduler__QueueOrder must be 'priority' or 'sjf'")
            .ValidateOnStart();
        services.Configure<WorkloadOptions>(configuration.GetSection("Workloads"));
        services.Configure<ContainerRuntimeOptions>(configuration.GetSection("ContainerRuntime"));
        services.TryAddSingleton(_ => PolicyCatalog.CreateDefault());
        services.TryAddSingleton<IContainerRuntime, SimulatedContainerRuntime>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
