using MasOrleans.Grains;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// The queue shard count of a cluster's running silos, recorded in Redis (<c>{ServiceId}/queue-shards</c>) with the silos
/// holding it (<c>{ServiceId}/queue-shards/silos</c>, a sorted set of one id per silo process scored by its lease's expiry).
/// A pod's shard is its name's hash modulo the count, and that shard holds the pod's queue entry and grain directory entry:
/// a silo with another count looked a pod up in another shard than the one its creator registered it in (a second
/// activation of one pod, each writing its state), listed and re-queued only the shards it counted, and queued pods where
/// the other silos' shards never looked. So a silo whose count differs from the record does not start.
/// </summary>
/// <remarks>
/// A lease per silo, renewed from the claim on (before Orleans joins, which can take minutes), so the count can be changed by
/// stopping every silo: the record goes with its last live holder, as Redis judges it in one script (a silo's own membership
/// view missed siblings still joining, and membership is per ClusterId while the key is per ServiceId). A killed silo's
/// lease lapses after <see cref="Lease"/>. The expiry is Redis' clock, read in the script: a silo whose clock ran ahead pruned
/// its siblings' live leases with its own (then a silo of another count got in, or its release deleted the record).
/// </remarks>
internal sealed partial class QueueShardRecord : IHostedService, IDisposable
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    /// <summary>A sixth of the lease: five renewals may fail (a Redis outage) before this silo's lease lapses.</summary>
    public static readonly TimeSpan RenewPeriod = Lease / 6;

    public static string Key(string serviceId) => $"{serviceId}/queue-shards";
    public static string MembersKey(string serviceId) => $"{serviceId}/queue-shards/silos";

    /// <summary>
    /// claim/renew: records the count and this silo's lease when the recorded count is the same or no lease is live, else
    /// answers the recorded count. release: drops this silo's lease, and the count with the last live one. Expired leases
    /// are pruned first. The keys' own expiry only tidies up after a cluster that was killed. The time is Redis' (ms) unless
    /// ARGV[4] turns it (a test's clock).
    /// </summary>
    private const string Script = """
        local count, members = KEYS[1], KEYS[2]
        local op, shards, member, now, lease = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
        if not now then
          local time = redis.call('TIME')
          now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end
        redis.call('ZREMRANGEBYSCORE', members, '-inf', now)
        if op == 'release' then
          redis.call('ZREM', members, member)
          if redis.call('ZCARD', members) == 0 then redis.call('DEL', count, members) end
          return false
        end
        local recorded = redis.call('GET', count)
        if recorded and recorded ~= shards and redis.call('ZCARD', members) > 0 then return recorded end
        redis.call('SET', count, shards, 'PX', lease)
        redis.call('ZADD', members, now + lease, member)
        redis.call('PEXPIRE', members, lease)
        return false
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly string _serviceId;
    private readonly int _count;
    private readonly string _member = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly TimeProvider _clock;
    private readonly TimeProvider? _leaseClock;
    private readonly CancellationTokenSource _stop = new();
    private Task _renewing = Task.CompletedTask;
    private readonly Lock _logging = new();
    private ILogger _logger = NullLogger.Instance;
    private Lapse _lapse;
    private bool _mismatched;

    /// <summary>Why the last renewal did not renew: each is logged when it starts, and the renewal after it (2011).</summary>
    private enum Lapse { None, Outage, Defect }

    private QueueShardRecord(ConnectionMultiplexer redis, string serviceId, int count, TimeProvider clock, TimeProvider? leaseClock)
    {
        _leaseClock = leaseClock;
        _redis = redis;
        _serviceId = serviceId;
        _count = count;
        _clock = clock;
    }

    /// <summary>
    /// Until the host's logging exists (set as the host starts, before Orleans joins) renewals log nowhere, so what they
    /// found then is forgotten: a lapse or a mismatch that lasts is logged by the next renewal, to the host's logging.
    /// </summary>
    public ILogger Logger
    {
        get => _logger;
        set
        {
            lock (_logging)
            {
                _logger = value;
                _lapse = Lapse.None;
                _mismatched = false;
            }
        }
    }

    /// <summary>
    /// At start, before Orleans joins the cluster: records this silo's count and lease, and renews the lease from now on until
    /// <see cref="StopAsync"/>. Throws <see cref="InvalidConfigurationException"/> (exit 78) when the running silos record
    /// another count, <see cref="StartupUnavailableException"/> (exit 69) when Redis fails. The record owns
    /// <paramref name="redis"/> (start-up's check of <paramref name="redisConnection"/>), and closes it when it fails.
    /// </summary>
    public static QueueShardRecord Claim(IConfiguration config, ConnectionMultiplexer redis, string redisConnection)
    {
        var serviceId = OrleansSetup.ServiceId(config);
        var count = config.GetSection("Scheduler").Get<SchedulerOptions>()?.QueueShards ?? new SchedulerOptions().QueueShards;
        (QueueShardRecord? Record, string? Recorded) claim;
        try
        {
            claim = ClaimAsync(redis, serviceId, count, TimeProvider.System).GetAwaiter().GetResult();
        }
        catch (Exception e) when (StartupEnvironment.RedisFailure(e) is { } reason)
        {
            redis.Dispose();
            throw new StartupUnavailableException([$"Redis at {StartupEnvironment.Endpoints(redisConnection)} failed as the silo recorded its queue shard count ({reason})"]);
        }
        if (claim.Record is { } record) return record;
        redis.Dispose();
        throw new InvalidConfigurationException([
            $"Scheduler__QueueShards is {count}, but the running silos of service '{serviceId}' use {claim.Recorded} (Redis key " +
            $"'{Key(serviceId)}'): every silo of a cluster must use the same count. To change it, stop every silo, then start " +
            $"them with the new count (after {Lease.TotalSeconds:0} s if a silo was killed; docs/configuration.md)"]);
    }

    /// <summary>
    /// Claims <paramref name="count"/> for a new silo on <paramref name="redis"/> (which the record then owns), and renews it
    /// every <see cref="RenewPeriod"/> of <paramref name="clock"/> from now on unless <paramref name="renew"/> is false (a test's
    /// silo that was killed). The leases' time is Redis' unless <paramref name="leaseClock"/> turns it (a test's).
    /// </summary>
    /// <returns>The record, or the count the running silos recorded when it differs.</returns>
    internal static async Task<(QueueShardRecord? Record, string? Recorded)> ClaimAsync(
        ConnectionMultiplexer redis, string serviceId, int count, TimeProvider clock, bool renew = true, TimeProvider? leaseClock = null)
    {
        var record = new QueueShardRecord(redis, serviceId, count, clock, leaseClock);
        if (await record.Evaluate("claim").ConfigureAwait(false) is { } recorded) return (null, recorded);
        if (renew) record._renewing = record.RenewAsync(record._stop.Token);
        return (record, null);
    }

    /// <returns>The count recorded by others when it differs from this silo's; null once this silo's lease is recorded (or released).</returns>
    private async Task<string?> Evaluate(string op)
    {
        RedisValue now = _leaseClock is null ? RedisValue.EmptyString : _leaseClock.GetUtcNow().ToUnixTimeMilliseconds();
        var answer = await _redis.GetDatabase().ScriptEvaluateAsync(Script, [Key(_serviceId), MembersKey(_serviceId)],
            [op, _count, _member, now, (long)Lease.TotalMilliseconds]).ConfigureAwait(false);
        return answer.IsNull ? null : (string?)answer;
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(RenewPeriod, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await RenewOnceAsync().ConfigureAwait(false);
                }
                // A defect, not an outage: ending the loop let the lease lapse without a word; loud (once while it lasts),
                // and renewed next period.
                catch (Exception e)
                {
                    Lapsed(Lapse.Defect, logger => LogRenewalFailed(logger, e, Key(_serviceId)));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Released.
        }
    }

    /// <summary>
    /// One renewal; logs only changes (the first miss, the recovery, the first mismatch), not every period. Throws what is
    /// not an outage (<see cref="Outage.Is"/>), for the loop's Error 2012.
    /// </summary>
    internal async Task RenewOnceAsync()
    {
        string? recorded;
        try
        {
            recorded = await Evaluate("renew").ConfigureAwait(false);
        }
        // A miss: the write paths and readiness report the outage; the lease holds for its rest. In a frozen Redis the
        // client cancels the waiting call or fails it with its pipe's exception as it drops the connection (HealthTests).
        catch (Exception e) when (Outage.Is(e, CancellationToken.None))
        {
            Lapsed(Lapse.Outage, logger => LogRenewalMissed(logger, Key(_serviceId), e.GetType().Name, Lease.TotalSeconds));
            return;
        }
        lock (_logging)
        {
            if (_lapse != Lapse.None) LogRenewed(_logger, Key(_serviceId));
            _lapse = Lapse.None;
            if (recorded is not null && !_mismatched) LogAnotherCount(_logger, Key(_serviceId), recorded, _count);
            _mismatched = recorded is not null;
        }
    }

    /// <summary>
    /// A renewal that did not renew: logs <paramref name="lapse"/> when it is a change. Under the lock the logger is set with,
    /// as the success path, so a change a renewal makes as the host's logging arrives is not logged to nothing and then kept.
    /// </summary>
    private void Lapsed(Lapse lapse, Action<ILogger> log)
    {
        lock (_logging)
        {
            if (_lapse != lapse) log(_logger);
            _lapse = lapse;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// A graceful stop drops this silo's lease, and the record with the last live one, so the whole cluster can start again
    /// with another count at once. Registered before Orleans, so it runs after Orleans has stopped (its grains deactivated):
    /// a silo of another count claims no sooner. The release runs even if the renewal loop failed, and with its own
    /// <see cref="ReleaseBudget"/> when the host's time is up.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        try
        {
            await _renewing;
        }
        finally
        {
            await ReleaseAsync();
        }
    }

    /// <summary>
    /// The release's own time, whatever is left of the host's graceful stop: it runs after Orleans has stopped, which can
    /// use all of that (a dead sibling, a slow deactivation), and one script call is cheap next to a lease left to lapse
    /// (a minute in which no silo may change the count). The shutdown bound's last quarter covers it.
    /// </summary>
    internal static readonly TimeSpan ReleaseBudget = TimeSpan.FromSeconds(2);

    private async Task ReleaseAsync()
    {
        try
        {
            await Evaluate("release").WaitAsync(ReleaseBudget);
        }
        // Whatever the client threw (as for a renewal): Warning 2010 names it, with its stack for a defect, and the lease lapses.
        catch (Exception e)
        {
            LogReleaseFailed(Logger, e, Key(_serviceId), e.GetType().Name, Lease.TotalSeconds);
        }
    }

    /// <summary>Stops renewing without releasing (as a killed silo would), and closes the connection.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _redis.Dispose();
    }

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "This silo's lease on the queue shard count's record {Key} " +
        "could not be renewed ({Exception}): a Redis outage; retried every period, and it lapses {Seconds} s after the last renewal")]
    private static partial void LogRenewalMissed(ILogger logger, string key, string exception, double seconds);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "This silo's lease on the queue shard count's record {Key} is renewed again")]
    private static partial void LogRenewed(ILogger logger, string key);

    /// <summary>Only after this silo's lease lapsed (a Redis outage longer than the lease) and a silo with another count started.</summary>
    [LoggerMessage(EventId = 2009, Level = LogLevel.Error, Message = "The cluster's queue shard count ({Key}) is {Recorded}, not this silo's " +
        "{Count}: a silo started with another Scheduler__QueueShards while this silo's lease had lapsed. Stop the silos whose count is wrong")]
    private static partial void LogAnotherCount(ILogger logger, string key, string? recorded, int count);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Error, Message = "Renewing this silo's lease on the queue shard count's record {Key} " +
        "failed other than by a Redis outage (a defect); retried every period, and logged once until it renews (2011)")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "The silo stopping could not drop its lease on the queue shard count's record " +
        "{Key} ({Exception}): if it was the last, a silo with another Scheduler__QueueShards can start once it lapses, after {Seconds} s")]
    private static partial void LogReleaseFailed(ILogger logger, Exception error, string key, string exception, double seconds);
}
