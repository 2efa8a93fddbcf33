using MasOrleans.Grains;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Observability;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// The queue shard count of a cluster's running silos, recorded in Redis (<c>{ServiceId}/queue-shards</c>) for
/// <see cref="Lease"/> and renewed by each silo while it runs. A pod's shard is its name's hash modulo the count, and that
/// shard holds the pod's queue entry and grain directory entry: a silo with another count looked a pod up in another shard
/// than the one its creator registered it in (a second activation of one pod, each writing its state), listed and
/// re-queued only the shards it counted, and queued pods where the other silos' shards never looked. So a silo whose
/// count differs from the record does not start.
/// </summary>
/// <remarks>
/// A lease, not a permanent record, so the count can be changed by stopping every silo and starting them with the new
/// one: the last silo stopping gracefully forgets the record, and one that was killed leaves it for at most the lease.
/// Waiting pods are not lost by the change: each shard reads its pods from their stored records when it activates.
/// </remarks>
internal sealed partial class QueueShardRecord(
    RedisStoreConnection connection,
    IOptions<ClusterOptions> cluster,
    IOptions<SchedulerOptions> scheduler,
    IServiceProvider services,
    ILogger<QueueShardRecord> logger) : BackgroundService
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    /// <summary>A sixth of the lease: five renewals may fail (a Redis outage) before the record lapses.</summary>
    public static readonly TimeSpan RenewPeriod = Lease / 6;

    public static string Key(string serviceId) => $"{serviceId}/queue-shards";

    /// <summary>Records the count (for the lease) when none is recorded or the same is; otherwise answers the recorded one.</summary>
    private const string ClaimScript = """
        local recorded = redis.call('GET', KEYS[1])
        if recorded and recorded ~= ARGV[1] then return recorded end
        redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
        return false
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return 0
        """;

    /// <summary>
    /// At start, before Orleans joins the cluster: the problem to report (exit 78) when the running silos record another
    /// count, else null, with this silo's count recorded.
    /// </summary>
    public static string? Claim(IConfiguration config, string redisConnection)
    {
        var serviceId = OrleansSetup.ServiceId(config);
        var count = config.GetSection("Scheduler").Get<SchedulerOptions>()?.QueueShards ?? new SchedulerOptions().QueueShards;
        using var redis = ConnectionMultiplexer.Connect(redisConnection, TextWriter.Null);
        var recorded = Claim(redis.GetDatabase(), serviceId, count);
        return recorded is null ? null
            : $"Scheduler__QueueShards is {count}, but the running silos of service '{serviceId}' use {recorded} (Redis key " +
              $"'{Key(serviceId)}'): every silo of a cluster must use the same count. To change it, stop every silo, then start " +
              $"them with the new count (after {Lease.TotalSeconds:0} s if a silo was killed; docs/configuration.md)";
    }

    /// <returns>The count recorded by others when it differs from <paramref name="count"/>; null once this one is recorded.</returns>
    private static string? Claim(IDatabase db, string serviceId, int count)
    {
        var answer = db.ScriptEvaluate(ClaimScript, [Key(serviceId)], [count, (long)Lease.TotalSeconds]);
        return answer.IsNull ? null : (string?)answer;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var key = Key(cluster.Value.ServiceId);
        var count = scheduler.Value.QueueShards;
        using var timer = new PeriodicTimer(RenewPeriod);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (connection.Opened is not { } redis) continue;
            RedisResult answer;
            try
            {
                answer = await redis.GetDatabase().ScriptEvaluateAsync(ClaimScript, [key], [count, (long)Lease.TotalSeconds]);
            }
            // An outage: the write paths and readiness report it; the record holds for the lease meanwhile.
            catch (Exception e) when (Outage.Is(e, stoppingToken))
            {
                LogRenewalMissed(logger, key, e.GetType().Name);
                continue;
            }
            if (!answer.IsNull) LogAnotherCount(logger, key, (string?)answer, count);
        }
    }

    /// <summary>
    /// The last active silo stopping forgets the record, so the whole cluster can start again with another count at once.
    /// Runs before Orleans stops (hosted services stop in reverse order): the membership still shows the other silos.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (connection.Opened is not { } redis) return;
        var membership = services.GetRequiredService<IClusterMembershipService>();
        var self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        if (membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(self))) return;
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [Key(cluster.Value.ServiceId)], [scheduler.Value.QueueShards]);
        }
        catch (Exception e) when (Outage.Is(e, cancellationToken))
        {
            LogReleaseFailed(logger, Key(cluster.Value.ServiceId), e.GetType().Name, Lease.TotalSeconds);
        }
    }

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "The queue shard count's record {Key} was not renewed ({Exception}): " +
        "an outage; renewed in the next period")]
    private static partial void LogRenewalMissed(ILogger logger, string key, string exception);

    /// <summary>Only after the record lapsed while this silo ran (a Redis outage longer than the lease) and another silo started.</summary>
    [LoggerMessage(EventId = 2009, Level = LogLevel.Error, Message = "The cluster's queue shard count ({Key}) is {Recorded}, not this silo's " +
        "{Count}: a silo started with another Scheduler__QueueShards while the record had lapsed. Stop the silos whose count is wrong")]
    private static partial void LogAnotherCount(ILogger logger, string key, string? recorded, int count);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "The last silo stopping could not forget the queue shard count's record " +
        "{Key} ({Exception}): a silo with another Scheduler__QueueShards can start once it lapses, after {Seconds} s")]
    private static partial void LogReleaseFailed(ILogger logger, string key, string exception, double seconds);
}
