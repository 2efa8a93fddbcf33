using MasOrleans.Grains.Pods;
using Queue = MasOrleans.Scheduling.Queue;
using MasOrleans.Scheduling.Policies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Hosting;

namespace MasOrleans.Grains;

public static class GrainServices
{
    /// <summary>
    /// Online learning's silo side: the decision queue (also the catalog's experience sink) and the two services
    /// that send decisions to the trainer and keep this silo on the active model version.
    /// </summary>
    public static IServiceCollection AddMasOrleansOnlineLearning(this IServiceCollection services, Learning.LearnedModels models, Learning.ExperienceQueue queue)
    {
        services.AddSingleton(models);
        services.AddSingleton(queue);
        services.AddHostedService<Learning.ModelSyncService>();
        services.AddHostedService<Learning.ExperienceFlushService>();
        return services;
    }

    /// <summary>Everything the grains resolve: options, the policy catalog, the container runtime and a clock.</summary>
    public static IServiceCollection AddMasOrleansGrainServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<TelemetryOptions>(configuration.GetSection("Telemetry"));
        services.AddOptions<SchedulerOptions>().Bind(configuration.GetSection("Scheduler"))
            .Validate(o => Queue.QueueOrders.TryParse(o.QueueOrder, out _), "Scheduler__QueueOrder must be 'priority' or 'sjf'")
            .ValidateOnStart();
        services.Configure<WorkloadOptions>(configuration.GetSection("Workloads"));
        services.Configure<ContainerRuntimeOptions>(configuration.GetSection("ContainerRuntime"));
        services.AddOptions<Learning.OnlineLearningOptions>().Bind(configuration.GetSection("Learning:Online"))
            .Validate(o => !o.Problems().Any(), "Learning__Online has invalid values (see start-up validation)")
            .ValidateOnStart();
        services.TryAddSingleton(_ => new Learning.LearnedModels(configuration["Models:Directory"] is { Length: > 0 } dir ? dir : null,
            configuration.GetValue("Learning:Online:Enabled", true)));
        services.TryAddSingleton(_ => PolicyCatalog.CreateDefault());
        services.TryAddSingleton<IContainerRuntime, SimulatedContainerRuntime>();
        services.AddSingleton<Scheduling.SiloClusterView>();
        services.AddSingleton<Scheduling.ClusterFeed>();
        services.AddSingleton<Scheduling.LocalShards>();
        services.AddSingleton<Scheduling.SchedulingSiloService>();
        services.AddSingleton<Orleans.ILifecycleParticipant<Orleans.Runtime.ISiloLifecycle>>(sp => sp.GetRequiredService<Scheduling.SchedulingSiloService>());
        services.AddPlacementDirector<Scheduling.ShardPlacementStrategy, Scheduling.ShardPlacementDirector>();
        services.TryAddSingleton<Storage.INodeBindingStore, Storage.MemoryNodeBindingStore>();
        services.TryAddSingleton<Storage.IPodDirectory, Storage.UnlistedPodDirectory>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
