using System.Net;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains;
using MasOrleans.Grains.Storage;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>Storage__Provider: redis (default; clustering, grain state and reminders in Redis) or memory.</summary>
internal enum StorageProvider
{
    Redis,
    Memory,
}

internal static class OrleansSetup
{
    public const int DefaultDashboardIntervalMs = 10000;
    public const int DefaultSiloPort = 11111;
    public const int DefaultGatewayPort = 30000;
    public const int DefaultDirectoryCacheSize = 20_000;
    /// <summary>Of both the cluster id and the service id (the prefix of every Redis key).</summary>
    public const string DefaultClusterId = "mas-orleans";

    /// <summary>Orleans__ServiceId: the prefix of every Redis key of the service.</summary>
    public static string ServiceId(IConfiguration config) => config["Orleans:ServiceId"] ?? DefaultClusterId;

    public static void Configure(ISiloBuilder silo, IConfiguration config, StorageProvider provider, string? redisConnection)
    {
        var siloPort = config.GetValue("Orleans:SiloPort", DefaultSiloPort);
        var gatewayPort = config.GetValue("Orleans:GatewayPort", DefaultGatewayPort);
        var clusterId = config["Orleans:ClusterId"] ?? DefaultClusterId;
        var serviceId = ServiceId(config);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = serviceId;
        });
        // Orleans__Membership__ProbeTimeout etc.: how fast a dead silo is declared dead (tests shorten it).
        silo.Configure<ClusterMembershipOptions>(config.GetSection("Orleans:Membership"));
        // A silo keeps the address of every grain it called on another silo, a million by default: one per pod created
        // through it. The dashboard counts that cache entry by entry every second (docs/benchmarks.md, session 14), and
        // a pod is rarely called from another silo after its creation, so the cache is kept to the recently used.
        var directoryCacheSize = config.GetValue("Orleans:DirectoryCacheSize", DefaultDirectoryCacheSize);
        silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = directoryCacheSize);
        // Our grains' state is stored as plain JSON.
        var storageSerializer = new SystemTextJsonGrainStorageSerializer();
        if (provider == StorageProvider.Memory)
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: clusterId);
            silo.AddMemoryGrainStorageAsDefault(o => o.GrainStorageSerializer = storageSerializer);
            silo.UseInMemoryReminderService();
        }
        else
        {
            var redis = ConfigurationOptions.Parse(redisConnection ?? ManagedRedis.DefaultConnectionString);
            // The stores on a pod's path (grain state, node bindings) complete Redis replies on the .NET thread pool,
            // where the grain turns waiting for them run anyway, instead of on StackExchange.Redis' own socket threads
            // that hand each completion over: a thread switch per round trip (docs/benchmarks.md, session 8). Both
            // connect asynchronously while the silo starts and are only awaited. Membership and reminders
            // keep the dedicated threads, so a busy pool cannot delay the silo's heartbeat.
            var hotPath = redis.Clone();
            hotPath.SocketManager = SocketManager.ThreadPool;
            var advertised = AdvertisedAddress.Resolve(KubernetesHosting.AdvertisedIP(config, Environment.GetEnvironmentVariable));
            silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: true);
            silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
            silo.AddRedisGrainStorageAsDefault(o =>
            {
                o.ConfigurationOptions = hotPath.Clone();
                o.GrainStorageSerializer = storageSerializer;
                o.DeleteStateOnClear = true;
            });
            // Reminders re-activate the scheduling queue and every workload's control loop after a silo dies.
            silo.UseRedisReminderService(o => o.ConfigurationOptions = redis.Clone());
            KubernetesHosting.ConfigureIfEnabled(silo, config);
            // Per-entry stores beside the grain storage: node bindings one hash field per pod, and the pods' own
            // records listed when a queue shard rebuilds its memory (waiting pods, its pod table).
            silo.Services.AddSingleton(new RedisStoreConnection(hotPath));
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RedisStoreConnection>());
            silo.Services.AddSingleton(sp => sp.GetRequiredService<RedisStoreConnection>().Redis);
            silo.Services.AddSingleton<INodeBindingStore, RedisNodeBindingStore>();
            silo.Services.AddSingleton<IPodDirectory, RedisPodDirectory>();
            silo.Services.AddHostedService<RedisDataLossWatch>();
        }
        silo.AddMasOrleansApplication(config);
        // The dashboard samples Orleans' counters through its own metric reader; each sample observes the grain
        // directory's cache size by counting every cached entry (tens of thousands with one per pod): at 1 s that was
        // a sixth of an idle silo's CPU, so the default samples every 10 s.
        var dashboardInterval = config.GetValue("Dashboard:CounterUpdateIntervalMs", DefaultDashboardIntervalMs);
        silo.AddDashboard(o => o.CounterUpdateIntervalMs = dashboardInterval);
        silo.Services.AddHostedService<IndexWarmup>();
    }
}

/// <summary>
/// Activates the cluster index once the silo runs: it re-reads every node (starting their heartbeat clocks
/// afresh) and re-queues pods that were still waiting when the previous silo stopped.
/// </summary>
internal sealed partial class IndexWarmup(IGrainFactory grains, IHostApplicationLifetime lifetime, ILogger<IndexWarmup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = WarmAsync());
        return Task.CompletedTask;
    }

    private async Task WarmAsync()
    {
        try
        {
            await grains.Reference<MasOrleans.Abstractions.Grains.IClusterIndexGrain>(MasOrleans.Abstractions.Grains.ClusterIndex.Key).Warm();
        }
        catch (Exception e)
        {
            LogWarmupFailed(logger, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Cluster index warm-up failed; it will activate on first use")]
    private static partial void LogWarmupFailed(ILogger logger, Exception error);
}
