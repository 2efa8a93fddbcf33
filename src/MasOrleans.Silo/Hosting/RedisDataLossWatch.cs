using MasOrleans.Scheduling;
using MasOrleans.Silo.Observability;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Stops the silo, with <see cref="ExitCode"/>, when Redis no longer holds this cluster's membership table after it
/// did: Redis was flushed, or restarted without its data. The silo's memory then holds state Redis no longer has; left
/// running, grain writes failed as version conflicts with records that were gone (a node registration answered 503,
/// pods bound at that moment stayed Scheduled for minutes), Orleans could not refresh or rejoin its membership, and
/// what memory still showed vanished one grain at a time. Stopped, a supervisor starts it again from what Redis holds.
/// </summary>
/// <remarks>
/// Orleans writes the table (<c>{ServiceId}/members/{ClusterId}</c>, Orleans.Clustering.Redis) when the silo joins and
/// never deletes it, so its absence once seen is the store's loss, not this cluster's doing. A Redis that does not
/// answer is an outage, which the write paths ride out (503 and retries), not a loss.
/// </remarks>
internal sealed partial class RedisDataLossWatch(
    RedisStoreConnection connection,
    IOptions<ClusterOptions> cluster,
    IHostApplicationLifetime lifetime,
    SiloExitCode exitCode,
    ILogger<RedisDataLossWatch> logger) : BackgroundService
{
    /// <summary>EX_UNAVAILABLE: what the silo needs (its stored state) is not there; a supervisor starts it again.</summary>
    public const int ExitCode = ExitCodes.Unavailable;

    public const string LostMessage = "Redis lost this cluster's data";

    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    public static string MembershipKey(ClusterOptions options) => $"{options.ServiceId}/members/{options.ClusterId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var key = MembershipKey(cluster.Value);
        var seen = false;
        var said = new OutageKinds();
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (connection.Opened is not { } redis) continue;
            bool exists;
            try
            {
                exists = await redis.GetDatabase().KeyExistsAsync(key);
            }
            // An outage, not a loss: the write paths and readiness report it. Besides timeouts, the client cancels what
            // waits on a connection it gave up on, or fails it with its pipe's InvalidOperationException (about 20 s into
            // a frozen Redis with a write pending); thrown on, the host took it for a failed service and stopped the silo.
            // Each kind is said once an outage, so that riding out the client's giving up is seen whichever way it came.
            catch (Exception e) when (Outage.Is(e, stoppingToken))
            {
                if (said.IsNew(e)) LogCheckFailed(logger, e.GetType().Name);
                continue;
            }
            said.Answered();
            if (exists)
            {
                seen = true;
                continue;
            }
            if (!seen) continue;
            LogLost(logger, key, ExitCode);
            exitCode.StoppedBecause(ExitCode);
            lifetime.StopApplication();
            return;
        }
    }

    /// <summary>Information, not a Warning: readiness and the write paths report the outage; this says the watch rode it out.</summary>
    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "The Redis data-loss check failed in an outage ({Exception}): " +
        "not a loss; checked again every period, and this kind of failure not said again until Redis answers")]
    private static partial void LogCheckFailed(ILogger logger, string exception);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Critical, Message = LostMessage + ": its membership table ({Key}) is gone (flushed, or " +
        "redis-server restarted without its append-only file or snapshot), so what this silo holds in memory is no longer " +
        "stored. The silo stops (exit code {ExitCode}) so that it starts again from what Redis holds")]
    private static partial void LogLost(ILogger logger, string key, int exitCode);
}

/// <summary>
/// The kinds of failure (exception types) said so far in one outage: each kind once, however many periods it lasts, and
/// every kind again in the next outage, which starts once Redis has answered.
/// </summary>
internal sealed class OutageKinds
{
    private readonly HashSet<string> _said = new(StringComparer.Ordinal);

    /// <summary>True the first time this outage fails with <paramref name="failure"/>'s type.</summary>
    public bool IsNew(Exception failure) => _said.Add(failure.GetType().FullName!);

    /// <summary>Redis answered: the outage is over.</summary>
    public void Answered() => _said.Clear();
}

/// <summary>The process's exit code when the silo stopped itself (<see cref="RedisDataLossWatch"/>); 0 when it was told to stop.</summary>
internal sealed class SiloExitCode
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    public void StoppedBecause(int code) => Volatile.Write(ref _value, code);
}
