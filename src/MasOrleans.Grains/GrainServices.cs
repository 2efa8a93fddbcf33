using MasOrleans.Grains.Pods;
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
        services.Configure<SchedulerOptions>(configuration.GetSection("Scheduler"));
        services.Configure<ContainerRuntimeOptions>(configuration.GetSection("ContainerRuntime"));
        services.TryAddSingleton(_ => PolicyCatalog.CreateDefault());
        services.TryAddSingleton<IContainerRuntime, SimulatedContainerRuntime>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
