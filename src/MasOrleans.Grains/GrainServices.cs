using MasOrleans.Grains.Pods;
using MasOrleans.Scheduling.Policies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MasOrleans.Abstractions;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;

namespace MasOrleans.Grains;

public static class GrainServices
{
    /// <summary>
    /// What every silo hosting these grains needs, whatever its clustering and storage: the contracts' serializers and <see cref="AddMasOrleansGrainServices"/> (the silo and the grain tests' cluster use it).
    /// </summary>
    public static ISiloBuilder AddMasOrleansApplication(this ISiloBuilder silo, IConfiguration config)
    {
        silo.Services.AddSerializer(s => s.AddMasOrleansSerializers());
        silo.Services.AddMasOrleansGrainServices(config);
        return silo;
    }

    /// <summary>
    /// Online learning's silo side: the decision queue (the silo catalog's experience sink, holding at most
    /// Learning:Online:MaxQueuedDecisions) and the two services that send decisions to the trainer and keep this silo
    /// on the active model version.
    /// </summary>
    public static IServiceCollection AddMasOrleansOnlineLearning(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new Learning.ExperienceQueue(
            sp.GetRequiredService<Learning.LearnedModels>(), sp.GetRequiredService<IOptions<Learning.OnlineLearningOptions>>().Value.MaxQueuedDecisions));
        services.AddHostedService<Learning.ModelSyncService>();
        services.AddHostedService<Learning.ExperienceFlushService>();
        return services;
    }

    /// <summary>Options bound from a section and checked at start: any problem their own check names stops the host.</summary>
    private static OptionsBuilder<T> AddChecked<T>(IServiceCollection services, IConfiguration configuration, string section,
        Func<T, IEnumerable<string>> problems) where T : class =>
        services.AddOptions<T>().Bind(configuration.GetSection(section))
            .Validate(o => !problems(o).Any(), $"{section.Replace(":", "__", StringComparison.Ordinal)} has invalid values (see start-up validation)")
            .ValidateOnStart();

    /// <summary>Everything the grains resolve: options, the policy catalog, the container runtime and a clock.</summary>
    public static IServiceCollection AddMasOrleansGrainServices(this IServiceCollection services, IConfiguration configuration)
    {
        AddChecked<TelemetryOptions>(services, configuration, "Telemetry", o => o.Problems());
        AddChecked<SchedulerOptions>(services, configuration, "Scheduler", o => o.Problems());
        AddChecked<WorkloadOptions>(services, configuration, "Workloads", o => o.Problems());
        AddChecked<ContainerRuntimeOptions>(services, configuration, "ContainerRuntime", o => o.Problems());
        AddChecked<Learning.OnlineLearningOptions>(services, configuration, "Learning:Online", o => o.Problems());
        services.TryAddSingleton(_ => Learning.LearnedModels.FromConfiguration(configuration));
        services.TryAddSingleton(_ => PolicyCatalog.CreateDefault());
        services.TryAddSingleton<IContainerRuntime, SimulatedContainerRuntime>();
        services.AddSingleton<Scheduling.SiloClusterView>();
        services.AddSingleton<Scheduling.ClusterFeed>();
        services.AddSingleton<Scheduling.LocalShards>();
        services.AddSingleton<Nodes.SiloStopping>();
        services.AddSingleton<Nodes.UnstoredReadings>();
        services.AddSingleton<Scheduling.PodActivationTable>();
        services.AddSingleton<Scheduling.PodCreator>();
        services.AddGrainService<Scheduling.PodHostService>();
        services.AddSingleton<Scheduling.IPodHostClient, Scheduling.PodHostClient>();
        services.AddGrainService<Nodes.NodeReservationService>();
        services.AddSingleton<Nodes.INodeReservationClient, Nodes.NodeReservationClient>();
        services.AddSingleton<Nodes.NodeReserver>();
        services.AddSingleton<Scheduling.SchedulingSiloService>();
        services.AddSingleton<Orleans.ILifecycleParticipant<Orleans.Runtime.ISiloLifecycle>>(sp => sp.GetRequiredService<Scheduling.SchedulingSiloService>());
        services.AddSingleton<Orleans.ILifecycleParticipant<Orleans.Runtime.ISiloLifecycle>, Workloads.WorkloadRevival>();
        services.AddPlacementDirector<Scheduling.ShardPlacementStrategy, Scheduling.ShardPlacementDirector>();
        services.AddGrainDirectory(Scheduling.PodActivationDirectory.Name,
            (sp, _) => new Scheduling.PodActivationDirectory(sp, sp.GetRequiredService<Scheduling.PodActivationTable>(), sp.GetRequiredService<IOptions<SchedulerOptions>>()));
        services.TryAddSingleton<Storage.INodeBindingStore, Storage.MemoryNodeBindingStore>();
        services.TryAddSingleton<Storage.IPodDirectory, Storage.UnlistedPodDirectory>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
