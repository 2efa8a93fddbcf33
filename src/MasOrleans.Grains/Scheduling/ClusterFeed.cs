using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// How node grains on this silo reach every silo's cluster view: the views' references, read from the index at most
/// every <see cref="RefreshPeriod"/>, so publishing a change costs one one-way message per silo and (nearly always)
/// no call to the index.
/// </summary>
public sealed partial class ClusterFeed(IGrainFactory grains, ILogger<ClusterFeed> logger)
{
    public static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(2);

    private volatile IReadOnlyList<IClusterObserver> _observers = [];
    private long _refreshedAt = -1;
    private Task? _refreshing;
    private readonly Lock _lock = new();

    /// <summary>Sends the change to every known view; call <see cref="EnsureFresh"/> first.</summary>
    public void Publish(NodeChange change)
    {
        IReadOnlyList<NodeChange> batch = [change];
        foreach (var observer in _observers) _ = observer.NodesChanged(batch);
    }

    /// <summary>Completes at once while the list is fresh; otherwise reads it (concurrent callers share one read).</summary>
    public ValueTask EnsureFresh()
    {
        var at = Interlocked.Read(ref _refreshedAt);
        if (at >= 0 && Environment.TickCount64 - at < RefreshPeriod.TotalMilliseconds) return ValueTask.CompletedTask;
        lock (_lock)
        {
            if (_refreshing is { IsCompleted: true }) _refreshing = null;
            _refreshing ??= RefreshOnce();
        }
        return new ValueTask(_refreshing);
    }

    /// <summary>Forgets the list's age, so the next publish reads the views again (a view subscribed).</summary>
    public void Invalidate() => Interlocked.Exchange(ref _refreshedAt, -1);

    private async Task RefreshOnce()
    {
        try
        {
            _observers = await grains.Reference<IClusterIndexGrain>(ClusterIndex.Key).Observers();
            Interlocked.Exchange(ref _refreshedAt, Environment.TickCount64);
        }
        catch (Exception e)
        {
            LogRefreshFailed(logger, e);
        }
        finally
        {
            lock (_lock) _refreshing = null;
        }
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Could not read the silo views from the cluster index; node changes go to the views known before")]
    private static partial void LogRefreshFailed(ILogger logger, Exception error);
}
