using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// How node grains on this silo reach every silo's cluster view: the views' references, read from the index at most
/// every <see cref="RefreshPeriod"/>, so publishing a change costs one one-way message per silo and (nearly always)
/// no call to the index.
/// </summary>
/// <remarks>
/// A view the index stops listing is still sent changes until the index has left it out for
/// <see cref="ClusterIndexGrain.ObserverExpiry"/>: a new activation of the index (its silo died) knows only the views
/// that renewed since, and a view left out of the feed for even a moment would miss changes with nothing newer from
/// the node to show it the gap. A view whose silo the membership shows stopping or dead is sent nothing, listed or not:
/// it goes with its silo, and each send to it failed loudly (Orleans finds no client for it).
/// </remarks>
public sealed partial class ClusterFeed(IGrainFactory grains, ILogger<ClusterFeed> logger, IClusterMembershipService? membership = null)
{
    public static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(2);

    private volatile IReadOnlyList<IClusterObserver> _observers = [];
    private readonly ObserverRoster _roster = new(ClusterIndexGrain.ObserverExpiry);
    private long _refreshedAt = -1;
    private Task? _refreshing;
    private readonly Lock _lock = new();

    private readonly Lock _pendingLock = new();
    private List<NodeChange> _pending = [];
    private bool _sending;

    /// <summary>
    /// Sends the change to every view, the list of views read first when it is not fresh (<see cref="EnsureFresh"/>).
    /// Takes the change at once and never throws, so a node grain numbers a change and hands it over in one step: a
    /// number spent on a change never sent would leave the views waiting on a gap, or, for a node's last change, missing
    /// it with no later number to show them. Changes of all node grains on this silo go out together: the first change
    /// queues one send on the thread pool, and whatever the silo's node grains publish before it runs (under load,
    /// dozens) travels in the same message to each view, instead of one message per change per silo. The order of a
    /// node's changes is kept: one sender at a time, batches in publishing order.
    /// </summary>
    public void Publish(NodeChange change)
    {
        lock (_pendingLock)
        {
            _pending.Add(change);
            _published++;
            if (_sending) return;
            _sending = true;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static feed => _ = feed.SendPending(), this, preferLocal: false);
    }

    /// <summary>How long after its last change a node is still named in <see cref="SendLatest"/>.</summary>
    public static readonly TimeSpan LatestWindow = TimeSpan.FromSeconds(10);

    /// <summary>Each node's last sent change, and when (Environment.TickCount64); a record is made only for a repeat.</summary>
    private readonly Dictionary<string, (Guid Incarnation, long Seq, long At)> _latest = new(StringComparer.Ordinal);

    /// <summary>
    /// Tells every view the last change of each node published here within <see cref="LatestWindow"/> (called
    /// periodically). Changes travel one-way and a view that lost a node's last ones has nothing newer from the node to
    /// show it the gap (a view the feed did not know yet, a message dropped while a silo died); this does.
    /// </summary>
    public async Task SendLatest()
    {
        await EnsureFresh();
        List<NodeLatest> latest;
        lock (_pendingLock)
        {
            var oldest = Environment.TickCount64 - (long)LatestWindow.TotalMilliseconds;
            foreach (var stale in _latest.Where(kv => kv.Value.At < oldest).Select(kv => kv.Key).ToList()) _latest.Remove(stale);
            latest = [.. _latest.Select(kv => new NodeLatest(kv.Key, kv.Value.Incarnation, kv.Value.Seq))];
        }
        if (latest.Count > 0) ToEveryView(observer => observer.NodesLatest(latest), latest.Count);
    }

    /// <summary>Started without an awaiter: a failure (none is expected: nothing here throws) is an Error, its batch is
    /// counted as dropped (said by that Error, not again at the stop), and changes published meanwhile get a sender of
    /// their own at once rather than waiting for the next change.</summary>
    private async Task SendPending()
    {
        try
        {
            await SendPendingBatches();
        }
        catch (Exception e)
        {
            LogSenderFailed(logger, e);
            bool again;
            lock (_pendingLock)
            {
                Settled(ref _dropped, _inFlight);
                SenderEnded();
                again = _pending.Count > 0 && !_stopped;
                if (again) _sending = true;
            }
            if (again) ThreadPool.UnsafeQueueUserWorkItem(static feed => _ = feed.SendPending(), this, preferLocal: false);
        }
    }

    private async Task SendPendingBatches()
    {
        while (true)
        {
            // Changes published while the list is read wait for it, and go in the batch that follows.
            await EnsureFresh();
            List<NodeChange> batch;
            lock (_pendingLock)
            {
                if (_pending.Count == 0)
                {
                    SenderEnded();
                    return;
                }
                batch = _pending;
                _pending = [];
                _inFlight = batch.Count;
                // Recorded as sent, not as published: a repeat must not overtake the batch that carries the change.
                var now = Environment.TickCount64;
                foreach (var change in batch) _latest[change.Node] = (change.Incarnation, change.Seq, now);
            }
            ToEveryView(observer => observer.NodesChanged(batch), batch.Count);
            lock (_pendingLock) Settled(ref _handedOver, batch.Count);
        }
    }

    private volatile bool _stopped;

    /// <summary>
    /// This silo is stopping and its node grains take no more reservations (see SchedulingSiloService.Stop): the changes
    /// published before are sent first (a reservation's binding among them: dropped, the other views offered its room
    /// again until this silo was declared dead), within <paramref name="limit"/>, or said to be lost; then nothing more is
    /// sent. Orleans is about to close the messaging these sends need, and each became an Orleans Error. Safe: what the
    /// other views miss from then on (releases while this silo's pods stop) they re-read once this silo is declared dead.
    /// </summary>
    /// <remarks>
    /// It waits for the changes published when it began, by count, not for the sender to go quiet: node grains keep
    /// publishing (telemetry), so a busy silo's sender may never be quiet, and a sender that failed is quiet with its
    /// changes unsent. A failed sender's batch counts as dropped: its Error said so, and the Warning names only what is neither.
    /// </remarks>
    public async Task Stop(TimeSpan limit, CancellationToken cancellation = default)
    {
        Task handedOver;
        long upto;
        lock (_pendingLock)
        {
            upto = _published;
            if (_handedOver + _dropped >= upto) handedOver = Task.CompletedTask;
            else
            {
                _stopWaiter = (upto, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                handedOver = _stopWaiter.Value.Done.Task;
            }
        }
        try
        {
            await handedOver.WaitAsync(limit, cancellation);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            long unsent;
            // A failed sender's batch was said to be lost by its Error.
            lock (_pendingLock) unsent = upto - _handedOver - _dropped;
            LogStoppedUnsent(logger, unsent, limit.TotalSeconds);
        }
        _stopped = true;
    }

    /// <summary>Changes published, handed to the views, and dropped by a failed sender, since start (under <see cref="_pendingLock"/>).</summary>
    private long _published;

    private long _handedOver;
    private long _dropped;

    /// <summary>The batch the sender took and has not handed over yet (under <see cref="_pendingLock"/>).</summary>
    private int _inFlight;

    /// <summary>Under <see cref="_pendingLock"/>: the sender's batch is done with (handed over or dropped); the stop's wait ends once all it waits for are.</summary>
    private void Settled(ref long counter, int count)
    {
        counter += count;
        _inFlight = 0;
        if (_stopWaiter is { } waiter && _handedOver + _dropped >= waiter.Upto)
        {
            waiter.Done.TrySetResult();
            _stopWaiter = null;
        }
    }

    /// <summary>The stop's wait: done once the changes up to that count were handed to the views.</summary>
    private (long Upto, TaskCompletionSource Done)? _stopWaiter;

    /// <summary>Under <see cref="_pendingLock"/>: the sender ends.</summary>
    private void SenderEnded() => _sending = false;

    /// <summary>One-way to every known view; a send that throws is logged (loud) and the other views still get theirs.</summary>
    private void ToEveryView(Func<IClusterObserver, Task> send, int count)
    {
        if (_stopped) return;
        var silos = membership?.CurrentSnapshot;
        foreach (var observer in _observers)
        {
            if (silos is not null && HostOf(observer) is { } host && silos.GetSiloStatus(host).IsTerminating()) continue;
            try
            {
                _ = send(observer);
            }
            catch (Exception e)
            {
                // A view that missed changes notices on the next repeat of the nodes' latest changes.
                LogSendFailed(logger, e, count);
            }
        }
    }

    private readonly ConcurrentDictionary<IClusterObserver, SiloAddress?> _hosts = new();

    /// <summary>The silo a view lives on, or null for a view that is not a silo's (a test's client).</summary>
    private SiloAddress? HostOf(IClusterObserver observer) => _hosts.GetOrAdd(observer, SiloHostedObserver.SiloOf);

    /// <summary>A node grain's activation ends: its latest change is no longer repeated (a new activation has its own).</summary>
    public void Forget(string node, Guid incarnation)
    {
        lock (_pendingLock)
        {
            if (_latest.TryGetValue(node, out var entry) && entry.Incarnation == incarnation) _latest.Remove(node);
        }
    }

    /// <summary>
    /// Completes at once while the list is fresh; otherwise reads it (concurrent callers share one read). Never throws:
    /// a read that fails is logged, and the views known before are kept.
    /// </summary>
    public ValueTask EnsureFresh()
    {
        var at = Interlocked.Read(ref _refreshedAt);
        if (at >= 0 && Environment.TickCount64 - at < RefreshPeriod.TotalMilliseconds) return ValueTask.CompletedTask;
        Task refreshing;
        lock (_lock)
        {
            if (_refreshing is { IsCompleted: true }) _refreshing = null;
            // Taken under the lock: the read's end clears the field (on whichever thread the index's answer arrives).
            refreshing = _refreshing ??= RefreshOnce();
        }
        return new ValueTask(refreshing);
    }

    private async Task RefreshOnce()
    {
        try
        {
            var listed = await grains.Reference<IClusterIndexGrain>(ClusterIndex.Key).Observers();
            var now = Environment.TickCount64;
            _observers = _roster.Update(listed, TimeSpan.FromMilliseconds(now));
            Interlocked.Exchange(ref _refreshedAt, now);
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

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "The node change sender failed; the changes it held reach the views by the nodes' repeated latest changes and the views' re-reads")]
    private static partial void LogSenderFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "This silo's feed stops with {Count} node change(s) not sent to the silo views after {Seconds} s; the views have them when they re-read the nodes once this silo is declared dead")]
    private static partial void LogStoppedUnsent(ILogger logger, long count, double seconds);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Could not send {Count} node change(s) to a silo view")]
    private static partial void LogSendFailed(ILogger logger, Exception error, int count);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Could not read the silo views from the cluster index; node changes go to the views known before")]
    private static partial void LogRefreshFailed(ILogger logger, Exception error);
}

/// <summary>
/// The views a feed sends to: every view the index listed in its latest answer, and every view it listed before and
/// has left out for less than the expiry (counted from the first answer that left it out).
/// </summary>
public sealed class ObserverRoster(TimeSpan expiry)
{
    private List<IClusterObserver> _current = [];
    private readonly Dictionary<IClusterObserver, TimeSpan> _missingSince = [];

    /// <summary>Takes the index's latest answer, read at <paramref name="now"/>; returns whom to send to.</summary>
    public IReadOnlyList<IClusterObserver> Update(IReadOnlyList<IClusterObserver> listed, TimeSpan now)
    {
        var next = new List<IClusterObserver>(listed);
        var listedSet = listed.ToHashSet();
        foreach (var observer in listedSet) _missingSince.Remove(observer);
        foreach (var observer in _current.Where(o => !listedSet.Contains(o)))
        {
            if (!_missingSince.TryGetValue(observer, out var since)) _missingSince[observer] = since = now;
            if (now - since < expiry) next.Add(observer);
            else _missingSince.Remove(observer);
        }
        _current = next;
        return next;
    }
}

/// <summary>Where an observer reference made on a silo lives.</summary>
public static class SiloHostedObserver
{
    /// <summary>
    /// Orleans hosts an object reference made on a silo on that silo's hosted client, whose id names the silo
    /// ("hosted-" and the silo's parsable address: Orleans.Runtime HostedClient.CreateHostedClientGrainId), followed by
    /// the observer's own id after a '+' (ObserverGrainId). Null for any other reference.
    /// </summary>
    public static SiloAddress? SiloOf(IAddressable observer)
    {
        const string prefix = "hosted-";
        var id = observer.GetGrainId();
        if (!id.IsClient()) return null;
        var key = id.Key.ToString();
        var end = key.IndexOf('+', StringComparison.Ordinal);
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || end < 0) return null;
        try
        {
            return SiloAddress.FromParsableString(key[prefix.Length..end]);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
