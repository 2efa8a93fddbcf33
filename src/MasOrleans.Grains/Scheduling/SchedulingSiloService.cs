using System.Diagnostics;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// What every silo runs for scheduling once it is active: it subscribes the silo's <see cref="SiloClusterView"/> with
/// the index and renews it (reading nodes the view missed), pings every queue shard so that shards of a dead silo come
/// back on the survivors within one period, repeats to every view the latest change of the nodes on this silo
/// (<see cref="ClusterFeed.SendLatest"/>), and wakes the shards on this silo when its view sees capacity appear.
/// </summary>
public sealed partial class SchedulingSiloService(
    IGrainFactory grains,
    SiloClusterView view,
    ClusterFeed feed,
    LocalShards shards,
    SiloStopping stopping,
    UnstoredReadings unstoredReadings,
    IClusterMembershipService silos,
    IOptions<SchedulerOptions> options,
    ILogger<SchedulingSiloService> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);
    /// <summary>Every this many renewals the view re-reads every node, repairing changes lost with a dead silo.</summary>
    private const int FullRereadEvery = 15;

    // The stop stage's budget, every wait in one place. The host's graceful stop gets 15 s by default (ShutdownBound:
    // three quarters of Shutdown__TimeoutSeconds, 20 s), and after this stage Orleans still deactivates this silo's
    // grains (each storing its state) and records the silo stopping, then dead: this stage takes at most
    // StageLimit (7 s) of it, so that much is left for those. Each wait is for work that takes milliseconds when nothing
    // is wrong, and says so when cut short.

    /// <summary>How long a queue shard waits for its cycles' tasks (<see cref="SchedulingQueueGrain.Drain"/>).</summary>
    public static readonly TimeSpan ShardDrainLimit = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a stop waits for this silo's shards to drain: each waits at most <see cref="ShardDrainLimit"/> and says
    /// so; this is for a shard that does not answer.
    /// </summary>
    public static readonly TimeSpan DrainLimit = ShardDrainLimit + TimeSpan.FromSeconds(1);

    /// <summary>How long a stop waits for this silo's node grains' writes under way (each takes a Redis round trip when nothing is wrong).</summary>
    public static readonly TimeSpan WritesLimit = TimeSpan.FromSeconds(2);

    /// <summary>How long a stop waits for the feed to send the node changes it holds (one-way sends, once it knows the views).</summary>
    public static readonly TimeSpan FeedLimit = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a stop waits for this silo's renewal loops to end: told to stop, each ends as its grain call under way
    /// returns, in milliseconds unless a silo died (then Orleans' call timeout).
    /// </summary>
    public static readonly TimeSpan LoopsLimit = TimeSpan.FromMilliseconds(500);

    /// <summary>The most this stage waits in all, before Orleans' own stop.</summary>
    public static readonly TimeSpan StageLimit = DrainLimit + WritesLimit + FeedLimit + LoopsLimit;

    /// <summary>For Orleans to record this silo stopping and the membership to reach the other silos (<see cref="RefusalToAnnouncement"/>).</summary>
    public static readonly TimeSpan AnnouncementMargin = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long after its node grains began to refuse writes this silo announces its stop, at most: the waits after
    /// <see cref="SiloStopping.Begin"/> (writes, feed, loops), and a margin for Orleans to record the silo stopping and the
    /// membership to reach the other silos. A caller a stopping silo refused waits this long for the announcement
    /// (<see cref="SiloStopping.AskedAgainOnceAnnounced"/>).
    /// </summary>
    public static readonly TimeSpan RefusalToAnnouncement = WritesLimit + FeedLimit + LoopsLimit + AnnouncementMargin;

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private Task? _latestLoop;
    private int _wakePending;
    private int _assignedPending;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchedulingSiloService), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellation)
    {
        view.CapacityAppeared += WakeLocalShards;
        view.PodAssigned += TellLocalShardsOfAssignedPods;
        _loop = Task.Run(Loop);
        _latestLoop = Task.Run(LatestLoop);
        return Task.CompletedTask;
    }

    /// <summary>Its own loop, so a renewal held up by a failover (when a repeat matters most) does not hold it up.</summary>
    private async Task LatestLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Period, _stopping.Token);
                await feed.SendLatest();
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                LogLatestFailed(logger, e);
            }
        }
    }

    private Task StoreLastTelemetry(IReadOnlyList<string> nodes) =>
        Task.WhenAll(nodes.Select(n => grains.Reference<INodeGrain>(n).StoreLastTelemetry()));

    /// <remarks>
    /// This stage stops before the cluster is told this silo shuts down, and so before Orleans' directory lets another
    /// silo activate this silo's grains; each step relies on it. In order: the shards start no more cycles and finish
    /// those running (<see cref="LocalShards.Stopping"/>), whose reservations are still taken here and reach the
    /// other views (a cycle cut short later would fail over closing messaging, and leave its reservation to the
    /// reconciliation). Only then this silo's node grains refuse every write (<see cref="SiloStopping"/>), and the stop
    /// waits for those under way, so from here on nothing changes a node here. Then the feed sends the changes it holds
    /// and nothing more, and this silo's view reads nothing more: both would fail over the messaging Orleans closes next.
    /// What the other views miss they re-read when this silo is declared dead (<see cref="Loop"/>), and this silo's view
    /// goes with it.
    /// </remarks>
    private async Task Stop(CancellationToken cancellation)
    {
        view.CapacityAppeared -= WakeLocalShards;
        view.PodAssigned -= TellLocalShardsOfAssignedPods;
        shards.Stop();
        // Alongside the drain and within its limit (both are a Redis round trip or so when nothing is wrong), before the
        // node grains refuse writes: the last telemetry times no write has stored yet. A second pass after the drain
        // stores the readings that came during it; those after stopping.Begin are not stored.
        var drainStarted = Stopwatch.GetTimestamp();
        var held = unstoredReadings.Nodes;
        var firstPass = StoreLastTelemetry(held);
        try
        {
            await Task.WhenAll(shards.All.Select(s => s.Drain())).WaitAsync(DrainLimit, cancellation);
        }
        catch (Exception e)
        {
            // Timed out, or the stop's own time ran out, or a shard did not answer: the steps below must run regardless.
            LogDrainCutShort(logger, e, DrainLimit.TotalSeconds);
        }
        TimeSpan Left() => DrainLimit - Stopwatch.GetElapsedTime(drainStarted) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
        try
        {
            await firstPass.WaitAsync(Left(), cancellation);
        }
        catch (Exception e)
        {
            // The stop goes on: those nodes' next activations show the time their last write stored.
            LogReadingsNotStored(logger, e, held.Count);
        }
        // Best effort: readings that came during the drain, in what is left of its limit. Not stored, a node shows a time a
        // few seconds older after the restart (docs/architecture.md), no fault: with many nodes reporting, most have a
        // newer reading by now, and a Warning here would mark every ordinary stop.
        var later = unstoredReadings.Nodes;
        try
        {
            if (later.Count > 0) await StoreLastTelemetry(later).WaitAsync(Left(), cancellation);
        }
        catch (Exception e)
        {
            LogLaterReadingsNotStored(logger, later.Count, FailureRun.OneLine(e));
        }
        stopping.Begin();
        try
        {
            // A reservation stored after the cluster heard of the stop could land after the node's next activation, on
            // another silo, read Redis: it would be missing there.
            await stopping.WritesSettled().WaitAsync(WritesLimit, cancellation);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            LogWritesCutShort(logger, e, WritesLimit.TotalSeconds);
        }
        // Before the feed and the view stop: a renewal failing over them now is this stop's, not a Warning.
        await _stopping.CancelAsync();
        await feed.Stop(FeedLimit, cancellation);
        view.Stop();
        // Each loop ends with its call under way, which a dead silo can hold for Orleans' call timeout: not waited for past the limit.
        var loops = new[] { _loop, _latestLoop }.OfType<Task>().ToArray();
        var ended = Task.WhenAll(loops);
        await Task.WhenAny(ended, Task.Delay(LoopsLimit, cancellation)).ConfigureAwait(false);
        if (!ended.IsCompleted) LogLoopsCutShort(logger, loops.Count(l => !l.IsCompleted), LoopsLimit.TotalMilliseconds);
        // A loop whose call this stop cut ends failed (its catch logs only failures before the stop): read here, now or
        // when it ends, so it is no unobserved task exception.
        _ = ended.ContinueWith(t => LogLoopEndedByStop(logger, t.Exception!.GetBaseException().GetType().Name),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task Loop()
    {
        var reference = grains.CreateObjectReference<IClusterObserver>(view);
        var index = grains.Reference<IClusterIndexGrain>(ClusterIndex.Key);
        var renewals = 0;
        var rereadNext = false;
        var deadSilos = DeadSilos();
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                // A silo declared dead took its node grains' last changes with it, and their new activations send nothing
                // until the node next changes: re-read every node now (activating them from Redis) and once more next time.
                var dead = DeadSilos();
                var siloDied = dead > deadSilos;
                deadSilos = dead;
                var membership = await index.Subscribe(reference);
                if (!view.Ready.IsCompleted) await view.Start(membership);
                // The second renewal re-reads everything: node grains learn of a new view within one feed refresh,
                // and changes they made before that never reached it. The same after the index failed over (its
                // new activation did not know this view): now, and once more after the node grains' next refresh.
                else await view.Reconcile(membership, rereadAll: renewals == 1 || renewals % FullRereadEvery == 0 || membership.NewSubscriber || rereadNext || siloDied);
                rereadNext = (membership.NewSubscriber && renewals > 0) || siloDied;
                renewals++;
                await QueueShards.PingAll(grains, options.Value.QueueShards);
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                LogRenewFailed(logger, e);
            }
            try
            {
                await Task.Delay(view.Ready.IsCompleted ? Period : TimeSpan.FromMilliseconds(200), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private int DeadSilos() => silos.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Dead);

    /// <summary>One wake-up per coalescing window, however many nodes freed room in it.</summary>
    private void WakeLocalShards()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 1) return;
        SendAfterWindow(() => Volatile.Write(ref _wakePending, 0), shard => shard.ClusterChanged());
    }

    /// <summary>Pods were bound: one word per coalescing window to the shards, whose pods that count bound pods may fit now.</summary>
    private void TellLocalShardsOfAssignedPods()
    {
        if (Interlocked.Exchange(ref _assignedPending, 1) == 1) return;
        SendAfterWindow(() => Volatile.Write(ref _assignedPending, 0), shard => shard.AssignedPodAdded());
    }

    private void SendAfterWindow(Action reopen, Func<ISchedulingQueueGrain, Task> send) => _ = Task.Run(async () =>
    {
        await Task.Delay(options.Value.RetryCoalesceMilliseconds);
        reopen();
        foreach (var shard in shards.All) _ = send(shard);
    });

    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "This silo stops without waiting for its scheduling cycles in flight (at most {Seconds} s); they are cut short, and their pods queued again by their shards' next activations")]
    private static partial void LogDrainCutShort(ILogger logger, Exception error, double seconds);

    [LoggerMessage(EventId = 1170, Level = LogLevel.Warning, Message = "This silo stops without having stored the last telemetry time of all its {Nodes} node(s) that had a newer one; after the restart they show the time stored before")]
    private static partial void LogReadingsNotStored(ILogger logger, Exception error, int nodes);

    [LoggerMessage(EventId = 1171, Level = LogLevel.Information, Message = "This silo stops without having stored the telemetry times of {Nodes} node(s) that reported during its drain ({Error}); they show an older time after the restart")]
    private static partial void LogLaterReadingsNotStored(ILogger logger, int nodes, string error);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Warning, Message = "This silo stops with {Loops} of its cluster view's renewal loops still in a grain call (waited {Milliseconds} ms); they end when the call does")]
    private static partial void LogLoopsCutShort(ILogger logger, int loops, double milliseconds);

    [LoggerMessage(EventId = 1114, Level = LogLevel.Debug, Message = "A renewal loop's call was cut by this silo's stop ({Error})")]
    private static partial void LogLoopEndedByStop(ILogger logger, string error);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "This silo stops without waiting for its node grains' reservation writes under way (at most {Seconds} s); a node's next activation may miss what lands after it read Redis")]
    private static partial void LogWritesCutShort(ILogger logger, Exception error, double seconds);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "Could not repeat the latest node changes to the silo views; trying again next period")]
    private static partial void LogLatestFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Could not renew this silo's cluster view with the index; trying again")]
    private static partial void LogRenewFailed(ILogger logger, Exception error);
}
