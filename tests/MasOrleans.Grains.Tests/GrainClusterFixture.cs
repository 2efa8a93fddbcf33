using MasOrleans.Abstractions;
using MasOrleans.Grains;
using MasOrleans.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Providers;
using Orleans.Serialization;
using IGrainStorage = Orleans.Storage.IGrainStorage;
using Orleans.TestingHost;

namespace MasOrleans.Grains.Tests;

/// <summary>An in-process Orleans cluster (one silo, memory storage with the production serializer) for grain tests.</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public const double HeartbeatGraceSeconds = 1;

    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    /// <summary>The silo's node binding store, whose outage a test switches on per node.</summary>
    public OutageNodeBindingStore Bindings { get; } = new();

    /// <summary>The silos' warnings and errors; disposing fails on any a test did not <see cref="SiloLog.Expect"/>.</summary>
    public SiloLog Log { get; } = new();

    /// <summary>The client's reads of node grains' views, per node.</summary>
    public NodeViewReads NodeReads { get; } = new();

    public async Task InitializeAsync()
    {
        // Node tests reserve room for pods that never exist; the queue shards' reconciliation rightly frees such reservations
        // (with a warning) once it has seen them twice. Hourly here, so it never frees one under a running test (which
        // then waits for, or reads back, a reservation that is gone); should it run, its warning is expected.
        Log.Expect("Reconciled: node g-[a-z0-9-]+ held a reservation for pod .* which is gone; released");
        Cluster = Build(1, Log, Bindings, nodeReads: NodeReads);
        await Cluster.DeployAsync();
    }

    /// <summary>A cluster of <paramref name="silos"/> silos configured as this fixture's, not yet deployed.</summary>
    /// <param name="settings">Configuration added to (or overriding) the fixture's own.</param>
    /// <param name="configure">Run on each silo after the fixture's own setup (a test replacing a service).</param>
    public static InProcessTestCluster Build(int silos, SiloLog log, INodeBindingStore bindings, IReadOnlyDictionary<string, string?>? settings = null,
        Action<ISiloBuilder>? configure = null, NodeViewReads? nodeReads = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Telemetry:HeartbeatGraceSeconds"] = $"{HeartbeatGraceSeconds}",
                ["Scheduler:RetryCoalesceMilliseconds"] = "50",
                ["Scheduler:ReconcileSeconds"] = "3600",
            }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
            var serializer = new SystemTextJsonGrainStorageSerializer();
            silo.AddMemoryGrainStorageAsDefault(o => o.GrainStorageSerializer = serializer);
            silo.UseInMemoryReminderService();
            silo.Services.AddLogging(logging => logging.AddProvider(log));
            silo.Services.AddSingleton(bindings);
            silo.AddMasOrleansApplication(config);
            configure?.Invoke(silo);
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddSerializer(s => s.AddMasOrleansSerializers());
            if (nodeReads is not null) client.AddOutgoingGrainCallFilter(nodeReads.Count);
        });
        return builder.Build();
    }

    public Task DisposeAsync() => DisposeAndCheck(Cluster, Log);

    /// <summary>Disposes the cluster, then fails on any warning or error its silos logged before that a test did not expect.</summary>
    public static async Task DisposeAndCheck(InProcessTestCluster cluster, SiloLog log)
    {
        var unexpected = log.Unexpected();
        await cluster.DisposeAsync();
        Assert.True(unexpected.Count == 0, SiloLog.Describe(unexpected, log.Records));
    }

    /// <summary>For <see cref="Build"/>'s configure: the default storage becomes <paramref name="wrap"/> over a memory storage of its own.</summary>
    public static void WrapDefaultStorage(ISiloBuilder silo, Func<IGrainStorage, IGrainStorage> wrap)
    {
        const string inner = "test-inner";
        silo.AddMemoryGrainStorage(inner, o => o.GrainStorageSerializer = new SystemTextJsonGrainStorageSerializer());
        silo.Services.AddKeyedSingleton<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) =>
            wrap(sp.GetRequiredKeyedService<IGrainStorage>(inner)));
    }
}
