using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// The resource agent. Keeps a one-node ClusterState so fit checks and per-device GPU accounting are the
/// scheduling core's own; every change is persisted (pods one entry each) before it is sent, as a numbered
/// <see cref="NodeChange"/>, to every silo's cluster view.
/// </summary>
[GrainType("mas-node")]
public sealed partial class NodeGrain(
    [PersistentState("node")] IPersistentState<NodeState> state,
    IOptions<TelemetryOptions> telemetryOptions,
    IOptions<SchedulerOptions> schedulerOptions,
    INodeBindingStore bindings,
    ClusterFeed feed,
    SiloStopping stopping,
    UnstoredReadings unstoredReadings,
    TimeProvider clock,
    ILocalSiloDetails silo,
    ILogger<NodeGrain> logger) : Grain, INodeGrain
{
    private ClusterState _local = new();
    private bool _ready = true;
    private Dictionary<string, double> _utilization = [];
    private DateTimeOffset? _lastTelemetry;
    private DateTimeOffset _heartbeatClock;
    private IGrainTimer? _heartbeat;
    private IGrainTimer? _drain;
    private readonly Guid _incarnation = Guid.NewGuid();
    private const string RegisteredReason = "Registered";
    private long _seq;

    private IClusterIndexGrain Index => GrainFactory.Reference<IClusterIndexGrain>(ClusterIndex.Key);
    private string Name => this.GetPrimaryKeyString();
    private TimeSpan Grace => TimeSpan.FromSeconds(telemetryOptions.Value.HeartbeatGraceSeconds);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A node that had gone NotReady stays so, as kube's node lifecycle controller keeps the Ready condition stored; it
        // was Ready for a grace period after every restart, taking new pods though it never reported again. Its last
        // reading's time is stored as a node's heartbeat time is in its status (UnstoredReadings says when), its
        // utilization is not: it has none until the next reading. (A node stored before readiness was kept: its last
        // readiness event says.)
        _ready = state.State.Ready ?? state.State.Events?.LastOrDefault(e => e.Reason is "NodeReady" or "NodeNotReady") is not { Reason: "NodeNotReady" };
        // No later than this silo's clock: stored by a silo whose clock is ahead, it would have every reading here dropped
        // as older (no heartbeat either) until this clock caught up, and the node gone NotReady, as a stamp ahead is now.
        var now = clock.GetUtcNow();
        _lastTelemetry = state.State.LastTelemetryAt > now ? now : state.State.LastTelemetryAt;
        RebuildLocal(state.State.Spec is null ? [] : await bindings.Read(Name));
        // A restart starts every reporting node's silence clock afresh instead of expiring it, as kube's controller takes
        // now as the probe time of a node it has not seen since it started (tryUpdateNodeHealth, "Missing timestamp").
        if (state.State.HasReported) StartHeartbeat();
        // The NoExecute evictions planned in the last activation's memory are planned again from now, as kube's taint
        // eviction controller plans every pod afresh when it starts (processPodOnNode: no scheduled eviction, startTime
        // now); a pod tolerating a taint for tolerationSeconds otherwise ran on after a restart for ever.
        if (state.State.Spec is not null) Carry(NoExecutePlan());
        if (state.State is { Draining: true, Spec: not null }) StartDrain();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation has another incarnation: views holding it must not be told of this one's last change.
        feed.Forget(Name, _incarnation);
        unstoredReadings.Remove(Name);
        return Task.CompletedTask;
    }

    public async Task<Outcome> Register(NodeSpec spec)
    {
        if (state.State.Spec is not null) return Outcome.Conflict($"node '{spec.Name}' already exists");
        using var write = BeginWrite();
        var before = state.State;
        state.State = new NodeState(spec, false, RegisteredAt: clock.GetUtcNow());
        AddEvent("Normal", RegisteredReason, $"node registered with capacity {string.Join(", ", spec.Capacity.ToQuantities().Select(kv => $"{kv.Key}={kv.Value}"))}");
        await state.WriteOrRestore(before);
        RebuildLocal([]);
        await Index.NodeAdded(Name);
        PublishInfo();
        return Outcome.Success;
    }

    public Task<NodeView?> GetView() => Task.FromResult(state.State.Spec is null ? null : View());

    public async Task<Outcome> Patch(NodePatch patch)
    {
        if (state.State.Spec is not { } spec) return NotFound();
        if (patch.RefusedWhileDraining(spec.Name, state.State.Draining) is { } draining) return Outcome.Conflict(draining);
        using var write = BeginWrite();
        var updated = patch.ApplyTo(spec);
        var resized = updated.Capacity != spec.Capacity || updated.MaxPods != spec.MaxPods;
        var bound = BoundPods.ToList();
        // Nothing is evicted for a smaller allocatable (nor does Kubernetes evict for one), and the node's accounting holds
        // only pods that fit: a size its pods do not fit in is refused, and the node keeps the one it has.
        if (resized && bound.Count > 0 && !ClusterState.Holds(updated, bound))
            return Outcome.Conflict($"node '{spec.Name}' holds pods that would not fit in {updated.Capacity} (pods {updated.MaxPods}); it keeps {spec.Capacity} (pods {spec.MaxPods})");
        state.State = state.State with { Spec = updated };
        if (resized) AddEvent("Normal", "Resized", $"allocatable now {updated.Capacity}, pods={updated.MaxPods}");
        if (updated.Unschedulable != spec.Unschedulable)
            AddEvent("Normal", updated.Unschedulable ? "Cordoned" : "Uncordoned", updated.Unschedulable ? "node marked unschedulable" : "node schedulable again");
        if (!ReferenceEquals(updated.Labels, spec.Labels) || !ReferenceEquals(updated.Taints, spec.Taints))
            AddEvent("Normal", "Updated", "labels or taints changed");
        await WriteRecord();
        if (resized) RebuildLocal(bound);
        else _local.UpdateNode(updated);
        PublishInfo();
        // Taints apply to the pods already here too: those a NoExecute taint does not let stay leave, now or later.
        if (!ReferenceEquals(updated.Taints, spec.Taints))
        {
            var plan = NoExecutePlan();
            CancelTimedEvictionsOutside(plan);
            Carry(plan);
        }
        return Outcome.Success;
    }

    public async Task<NodeDeletion> Delete(bool force = false)
    {
        if (state.State.Spec is null) return new NodeDeletion(NotFound(), null);
        // Judged before the write is counted: judging asks every bound pod (up to the call timeout for a pod whose silo
        // died unannounced), which would hold a stop past its limit on writes; a refusal (409, 404) writes nothing.
        var judged = await JudgeDeletion(force);
        if (judged.Code is not (OutcomeCode.Ok or OutcomeCode.Accepted)) return new NodeDeletion(judged, null);
        using var write = BeginWrite();
        if (judged.Code == OutcomeCode.Ok) await Remove();
        if (judged.Code != OutcomeCode.Accepted) return new NodeDeletion(judged, null);
        if (!state.State.Draining)
        {
            state.State = Deleting(state.State);
            AddEvent("Normal", "Draining", $"deleting: cordoned, evicting {BoundPods.Count} pod(s)");
            await WriteRecord();
            _local.UpdateNode(state.State.Spec!);
            PublishInfo();
        }
        var left = View(state.State);
        StartDrain();
        return new NodeDeletion(judged, left);
    }

    public async Task<NodeDeletion> JudgeDelete(bool force = false)
    {
        var judged = await JudgeDeletion(force);
        return new NodeDeletion(judged, judged.Code == OutcomeCode.Accepted ? View(Deleting(state.State)) : null);
    }

    /// <summary>
    /// The one rule for a node's delete, for <see cref="Delete"/> and its dry run alike, judged without acting: an empty
    /// node is removed at once (Ok); one holding pods no workload recreates would lose them, so it is refused (Conflict)
    /// unless <paramref name="force"/> (kubectl drain's rule); any other is drained (Accepted).
    /// </summary>
    private async Task<Outcome> JudgeDeletion(bool force)
    {
        if (state.State.Spec is not { } spec) return NotFound();
        if (BoundPods.Count == 0) return Outcome.Success;
        var pods = BoundPods.Select(p => p.Pod.Name).ToList();
        if (!force)
        {
            var views = await Task.WhenAll(pods.Select(p => GrainFactory.Reference<IPodGrain>(p).Get()));
            var bare = views.Where(v => v is { Workload: null }).Select(v => v!.Spec.Name).ToList();
            if (bare.Count > 0)
                return UnmanagedPodsRefusal.Outcome(spec.Name, bare);
        }
        return Outcome.Started($"node '{spec.Name}' is draining {pods.Count} pod(s); it is removed when they are gone");
    }

    /// <summary>A node being deleted is cordoned, so nothing new lands on it while it drains.</summary>
    private static NodeState Deleting(NodeState stored) => stored with { Draining = true, Spec = stored.Spec! with { Unschedulable = true } };

    public Task<IReadOnlyList<PodEvent>> GetEvents() => Task.FromResult(state.State.Events ?? []);

    public async Task ImagePulled(string image)
    {
        if (state.State.Spec is null || state.State.Images?.Contains(image) == true) return;
        // One-way, so not refused (that would be a failed call with no one to hear it): the image stays unrecorded, as
        // for a silo that died, until a pod pulls it on the node again.
        using var write = TryBeginWrite();
        if (!write.Counted)
        {
            LogImageNotRecorded(logger, Name, image);
            return;
        }
        state.State = state.State with { Images = [.. state.State.Images ?? [], image] };
        AddEvent("Normal", "ImagePulled", $"image {image} pulled and cached");
        await WriteRecord();
        _local.AddImage(0, image);
        PublishInfo();
    }

    /// <summary>
    /// Evicts every pod now and again each second until none is left: a pod reserved here whose cycle has not yet
    /// recorded the placement on the pod refuses the eviction until it has.
    /// </summary>
    private void StartDrain()
    {
        EvictForDeletion();
        _drain ??= this.RegisterGrainTimer(() =>
        {
            if (BoundPods.Count == 0) return RemoveDrained();
            EvictForDeletion();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)) { KeepAlive = true });
    }

    /// <summary>
    /// The last pod of a draining node is gone: remove the node. If storage does not answer, the release still stands
    /// (the pod is gone) and the drain timer tries the removal again each second, instead of the node staying
    /// "being deleted" with nothing left to evict and no one to finish it.
    /// </summary>
    private async Task RemoveDrained()
    {
        // Release and the (non-interleaving) timer take turns, so one removal runs at a time; a tick already queued when
        // a removal succeeded finds the node gone.
        if (state.State.Spec is null) return;
        // Left to the node's next activation once this silo stops: it is stored draining, and drains again.
        using var write = TryBeginWrite();
        if (!write.Counted) return;
        await RemoveDrainedCounted();
    }

    /// <summary><see cref="RemoveDrained"/> for a caller that already holds a counted write (<see cref="Release"/>).</summary>
    private async Task RemoveDrainedCounted()
    {
        if (state.State.Spec is null) return;
        await LoggedSteps.Run(Remove, e => LogDrainedNotRemoved(logger, e, Name));
    }

    /// <summary>
    /// Each bound pod is evicted, then deleted, as Kubernetes deletes the pods of a deleted node. Not awaited, as
    /// <see cref="Evict"/> is one-way: the pod's eviction calls <see cref="Release"/> here, which waits for this turn, so
    /// awaited in it each eviction would wait out the response timeout (the deadlock f41a280 took the finished-pod sweep
    /// out of). Nor awaited off the turn: the drain timer asks every pod still bound again each second, so an eviction
    /// that failed is retried, and the node stays Draining with the pod listed on it until one succeeds.
    /// </summary>
    private void EvictForDeletion()
    {
        foreach (var bound in BoundPods.ToList())
            _ = GrainFactory.Reference<IPodGrain>(bound.Pod.Name).EvictForNodeDeletion(Name, $"node {Name} is being deleted");
    }

    private async Task Remove()
    {
        await bindings.Clear(Name);
        await state.ClearStateAsync();
        state.State = new NodeState();
        _lastTelemetry = null;
        unstoredReadings.Remove(Name);
        _heartbeat?.Dispose();
        _heartbeat = null;
        _drain?.Dispose();
        _drain = null;
        _timedEviction?.Dispose();
        _timedEviction = null;
        _timedEvictions.Clear();
        _resync?.Dispose();
        _resync = null;
        _inDoubt.Clear();
        RebuildLocal([]);
        Publish(NodeChangeKind.Removed);
        await Index.NodeRemoved(Name);
        LogRemoved(logger, this.GetPrimaryKeyString());
        // Off this turn: the removal may run inside the last drained pod's Release, while that pod waits for it, and
        // the pod's own deletion would then wait for the pod (both stuck until the response timeout).
        var (name, index, grains) = (Name, Index, GrainFactory);
        _ = Task.Run(() => LoggedSteps.Run(() => DeleteFinishedPods(name, index, grains), e => LogFinishedPodsNotDeleted(logger, e, name)));
        DeactivateOnIdle();
    }

    /// <summary>
    /// The pods that finished here (Failed, Succeeded) no longer hold the node, so the drain never saw them: each is
    /// deleted (awaited, off the node's turn), as pod GC deletes every pod bound to a node that no longer
    /// exists (pkg/controller/podgc/gc_controller.go, gcOrphaned). They stayed listed with this node's name.
    /// </summary>
    /// <remarks>
    /// Awaited: the node is gone and no drain comes back to them, so a deletion that fails (Redis gone for a moment) is
    /// Warning 1406 here or nowhere. Every pod of every page is tried, as gcOrphaned goes on past a failed deletion, and
    /// the failures are thrown together (one Warning, bounded: <see cref="FinishedPodsNotDeleted"/>); a listing that fails
    /// ends the sweep, with no page to go on from.
    /// </remarks>
    internal static async Task DeleteFinishedPods(string node, IClusterIndexGrain index, IGrainFactory grains, int pageSize = FinishedPodsPage)
    {
        var notDeleted = new List<(string Pod, Exception Cause)>();
        (string? After, Exception Cause)? listing = null;
        string? after = null;
        do
        {
            Page<PodEntry> page;
            try
            {
                page = await index.ListPods(0, pageSize, after);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                listing = (after, e);
                break;
            }
            var finished = page.Items.Where(p => p.NodeName == node && p.Phase is PodPhase.Failed or PodPhase.Succeeded).ToList();
            var deletions = finished.Select(pod => grains.Reference<IPodGrain>(pod.Name).EvictForNodeDeletion(node, $"node {node} no longer exists")).ToList();
            for (var i = 0; i < deletions.Count; i++)
            {
                try
                {
                    await deletions[i];
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    notDeleted.Add((finished[i].Name, e));
                }
            }
            after = page.Continue;
        }
        while (after is not null);
        if (notDeleted.Count > 0 || listing is not null) throw FinishedPodsNotDeleted.Of(notDeleted, listing);
    }

    private const int FinishedPodsPage = 1000;

    private void RebuildLocal(IReadOnlyList<BoundPod> pods)
    {
        _local = new ClusterState();
        if (state.State.Spec is not { } spec) return;
        _local.AddNode(spec, pods, _ready, state.State.Images,
            misfit: bound => throw new InvalidOperationException($"stored pod '{bound.Pod.Name}' does not fit node '{spec.Name}'"));
    }

    private IReadOnlyList<BoundPod> BoundPods => _local.NodeCount == 0 ? [] : _local.PodsOn(0);

    private void PublishInfo() => Publish(NodeChangeKind.Info,
        new NodeInfo(state.State.Spec!, _ready, _utilization, _lastTelemetry, state.State.Images ?? [], state.State.Draining, Created, ReadyChanged));

    /// <summary>
    /// Numbers the change and hands it to the feed in one step, which sends it to every silo's view (one-way): no silo
    /// waits on another, and no number is spent on a change that is not sent (the views would wait on the gap).
    /// </summary>
    private void Publish(NodeChangeKind kind, NodeInfo? info = null, BoundPod? bound = null, string? released = null) =>
        feed.Publish(new NodeChange(Name, _incarnation, ++_seq, kind, info, bound, released));

    private NodeView View() => View(state.State);

    /// <summary>The view of <paramref name="stored"/>, the node's state now or as a write would leave it (a dry run's).</summary>
    private NodeView View(NodeState stored) => new(stored.Spec!, _ready, [.. BoundPods.OrderBy(b => b.Pod.Name, StringComparer.Ordinal)], _utilization, _lastTelemetry,
        stored.Images, stored.Draining, _incarnation, _seq, Created, ReadyChanged);

    /// <summary>When the node registered; for a node stored before that was kept, its Registered event's time while it is among the kept events.</summary>
    private DateTimeOffset? Created => state.State.RegisteredAt ?? state.State.Events?.FirstOrDefault(e => e.Reason == RegisteredReason)?.LastSeen;

    /// <summary>When the Ready condition last changed; one that never changed has been Ready since the node registered, as in Kubernetes.</summary>
    private DateTimeOffset? ReadyChanged => state.State.ReadyChangedAt ?? Created;

    private void AddEvent(string type, string reason, string message)
    {
        state.State = state.State with { Events = ObjectEvents.Append(state.State.Events ?? [], clock.GetUtcNow(), type, reason, message) };
        ObjectEventLog.NodeEvent(logger, this.GetPrimaryKeyString(), reason, type, message);
    }

    [LoggerMessage(EventId = 2305, Level = LogLevel.Information, Message = "Node {Node} removed")]
    private static partial void LogRemoved(ILogger logger, string node);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Information, Message = "Node {Node} does not record pulled image {Image}: its silo is stopping")]
    private static partial void LogImageNotRecorded(ILogger logger, string node, string image);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Node {Node} is drained but could not be removed; tried again in a second")]
    private static partial void LogDrainedNotRemoved(ILogger logger, Exception error, string node);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Warning, Message = "Node {Node} was removed but the pods that finished on it could not be listed or deleted; they stay listed with its name (delete them yourself)")]
    private static partial void LogFinishedPodsNotDeleted(ILogger logger, Exception error, string node);

    private Outcome NotFound() => Outcome.NotFound($"node '{this.GetPrimaryKeyString()}' not found");
}
