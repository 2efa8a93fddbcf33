using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Plugins.Kube;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// The resource agent. Keeps a one-node ClusterState so fit checks and per-device GPU accounting are the
/// scheduling core's own; every change is persisted (pods one entry each) before it is sent, as a numbered
/// <see cref="NodeChange"/>, to every silo's cluster view.
/// </summary>
[GrainType("mas-node")]
[ImplicitStreamSubscription(TelemetryStreams.Namespace)]
public sealed partial class NodeGrain(
    [PersistentState("node")] IPersistentState<NodeState> state,
    IOptions<TelemetryOptions> telemetryOptions,
    INodeBindingStore bindings,
    ClusterFeed feed,
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
    /// <summary>Preemptors nominated here (kube's nominator keeps every one), each held until it reserves or its hold lapses.</summary>
    private readonly List<(PodSpec Pod, DateTimeOffset Until)> _nominations = [];

    /// <summary>
    /// Reservations whose binding write got no answer (Redis went down, or the reply was lost): Redis may or may not
    /// hold them. The room stays held; a retry of the same pod confirms it, otherwise it is dropped when the node is
    /// written again (<see cref="Resync"/>), so a pod placed elsewhere meanwhile never has two stored homes.
    /// </summary>
    private readonly HashSet<string> _inDoubt = new(StringComparer.Ordinal);

    /// <summary>
    /// Set while a binding write has failed since Redis last matched memory (a reservation in doubt, or a release that
    /// Redis never heard of): each <see cref="ResyncRetry"/> the whole node is written again from memory until Redis
    /// answers. Memory is the truth, so what a failed, late or lost write left behind in Redis is overwritten. Meanwhile
    /// a new reservation fails at once and a release is left to that write (a pod in doubt that asks again is still
    /// confirmed).
    /// </summary>
    private IGrainTimer? _resync;
    private static readonly TimeSpan ResyncRetry = TimeSpan.FromSeconds(1);
    private const string StoreUnsettled = "the node's last binding write failed; it takes new pods once Redis has its bindings again";
    private static readonly TimeSpan NominationHold = TimeSpan.FromSeconds(30);
    private readonly Guid _incarnation = Guid.NewGuid();
    private const string RegisteredReason = "Registered";
    private long _seq;

    private IClusterIndexGrain Index => GrainFactory.Reference<IClusterIndexGrain>(ClusterIndex.Key);
    private string Name => this.GetPrimaryKeyString();
    private TimeSpan Grace => TimeSpan.FromSeconds(telemetryOptions.Value.HeartbeatGraceSeconds);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RebuildLocal(state.State.Spec is null ? [] : await bindings.Read(Name));
        // A restart starts every reporting node's silence clock afresh instead of expiring it.
        if (state.State.HasReported) StartHeartbeat();
        // ...and every node Ready: one that was NotReady changed now.
        if (state.State.Events?.LastOrDefault(e => e.Reason is "NodeReady" or "NodeNotReady") is { Reason: "NodeNotReady" })
            state.State = state.State with { ReadyChangedAt = clock.GetUtcNow() };
        if (state.State is { Draining: true, Spec: not null }) StartDrain();
        var stream = this.GetStreamProvider(TelemetryStreams.Provider)
            .GetStream<TelemetryReading>(StreamId.Create(TelemetryStreams.Namespace, this.GetPrimaryKeyString()));
        await stream.SubscribeAsync((reading, _) => OnTelemetry(reading));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation has another incarnation: views holding it must not be told of this one's last change.
        feed.Forget(Name, _incarnation);
        return Task.CompletedTask;
    }

    public async Task<Outcome> Register(NodeSpec spec)
    {
        if (state.State.Spec is not null) return Outcome.Conflict($"node '{spec.Name}' already exists");
        var before = state.State;
        state.State = new NodeState(spec, false, RegisteredAt: clock.GetUtcNow());
        AddEvent("Normal", RegisteredReason, $"node registered with capacity {string.Join(", ", spec.Capacity.ToQuantities().Select(kv => $"{kv.Key}={kv.Value}"))}");
        await state.WriteOrRestore(before);
        RebuildLocal([]);
        await Index.NodeAdded(Name);
        await PublishInfo();
        return Outcome.Success;
    }

    public Task<NodeView?> GetView() => Task.FromResult(state.State.Spec is null ? null : View());

    public async Task<Outcome> Patch(NodePatch patch)
    {
        if (state.State.Spec is not { } spec) return NotFound();
        var updated = spec with
        {
            Labels = patch.Labels ?? spec.Labels,
            Taints = patch.Taints ?? spec.Taints,
            Unschedulable = patch.Unschedulable ?? spec.Unschedulable,
        };
        state.State = state.State with { Spec = updated };
        if (updated.Unschedulable != spec.Unschedulable)
            AddEvent("Normal", updated.Unschedulable ? "Cordoned" : "Uncordoned", updated.Unschedulable ? "node marked unschedulable" : "node schedulable again");
        if (!ReferenceEquals(updated.Labels, spec.Labels) || !ReferenceEquals(updated.Taints, spec.Taints))
            AddEvent("Normal", "Updated", "labels or taints changed");
        await state.WriteStateAsync();
        _local.UpdateNode(updated);
        await PublishInfo();
        // Taints apply to the pods already here too: those a NoExecute taint does not let stay leave, now or later.
        if (!ReferenceEquals(updated.Taints, spec.Taints))
        {
            var plan = NoExecutePlan();
            CancelTimedEvictionsOutside(plan);
            Carry(plan);
        }
        return Outcome.Success;
    }

    public async Task<Outcome> Delete(bool force = false)
    {
        if (state.State.Spec is not { } spec) return NotFound();
        if (BoundPods.Count == 0)
        {
            await Remove();
            return Outcome.Success;
        }
        var pods = BoundPods.Select(p => p.Pod.Name).ToList();
        if (!force)
        {
            // kubectl drain's rule: a pod no workload recreates would simply be lost.
            var views = await Task.WhenAll(pods.Select(p => GrainFactory.Reference<IPodGrain>(p).Get()));
            var bare = views.Where(v => v is { Workload: null }).Select(v => v!.Spec.Name).ToList();
            if (bare.Count > 0)
                return Outcome.Conflict($"node '{spec.Name}' holds {bare.Count} pod(s) no workload manages ({string.Join(", ", bare.Take(5))}); delete them first or pass force=true to evict them anyway");
        }
        if (!state.State.Draining)
        {
            state.State = state.State with { Draining = true, Spec = spec with { Unschedulable = true } };
            AddEvent("Normal", "Draining", $"deleting: cordoned, evicting {pods.Count} pod(s)");
            await state.WriteStateAsync();
            _local.UpdateNode(state.State.Spec!);
            await PublishInfo();
        }
        StartDrain();
        return Outcome.Started($"node '{spec.Name}' is draining {pods.Count} pod(s); it is removed when they are gone");
    }

    public Task<IReadOnlyList<PodEvent>> GetEvents() => Task.FromResult(state.State.Events ?? []);

    public async Task ImagePulled(string image)
    {
        if (state.State.Spec is null || state.State.Images?.Contains(image) == true) return;
        state.State = state.State with { Images = [.. state.State.Images ?? [], image] };
        AddEvent("Normal", "ImagePulled", $"image {image} pulled and cached");
        await state.WriteStateAsync();
        _local.AddImage(0, image);
        await PublishInfo();
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
        try
        {
            await Remove();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogDrainedNotRemoved(logger, e, Name);
        }
    }

    /// <summary>One-way as <see cref="Evict"/>; each pod is then deleted, as Kubernetes deletes the pods of a deleted node.</summary>
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
        await Publish(NodeChangeKind.Removed);
        await Index.NodeRemoved(Name);
        logger.LogInformation("Node {Node} removed", this.GetPrimaryKeyString());
        DeactivateOnIdle();
    }

    public async Task<Reservation> Reserve(PodSpec pod, GpuAllocation gpus)
    {
        var reservation = await ReserveHere(pod, gpus);
        // A node that no longer exists names no silo, so schedulers forget where it was.
        return state.State.Spec is null ? reservation : reservation with { Host = silo.SiloAddress };
    }

    private async Task<Reservation> ReserveHere(PodSpec pod, GpuAllocation gpus)
    {
        if (state.State.Spec is null) return new Reservation(false, GpuAllocation.None, "node no longer exists");
        // Idempotent: a scheduler retrying after a crash gets the placement it already holds.
        if (_local.TryGetPodLocation(pod.Name, out _, out var held))
        {
            if (_inDoubt.Contains(pod.Name)) await Confirm(new BoundPod(pod, held));
            return new Reservation(true, held, null);
        }
        if (!_ready) return new Reservation(false, GpuAllocation.None, "node is not ready");
        // Fail fast while Redis is known not to answer: each write would wait out the client's timeout in this grain's
        // turn, and the reservations queued behind it would outlive their callers (a queue of 5 s writes per node).
        // Thrown, not refused: the cycle fails as it would on the write itself (the pod is queued again after its
        // backoff), rather than trying other nodes as for a conflict and recording the pod unschedulable.
        if (_resync is not null) throw new TimeoutException($"node {Name}: {StoreUnsettled}");
        // The drain has evicted what the node held; a pod let in now would keep the deleted node forever.
        if (state.State.Draining) return new Reservation(false, GpuAllocation.None, "node is being deleted");
        // The cycle chose from its silo's view, which may not have heard of a cordon yet; the node has.
        if (!NodeUnschedulableFilter.Admits(pod, state.State.Spec.Unschedulable)) return new Reservation(false, GpuAllocation.None, "node is cordoned");
        if (NominatedFor(pod, gpus) is { } holder) return new Reservation(false, GpuAllocation.None, $"room is held for nominated pod {holder} of equal or higher priority");
        if (!_local.TryBind(0, pod, gpus)) return new Reservation(false, GpuAllocation.None, "resources or devices no longer free");
        if (_nominations.Count > 0) _nominations.RemoveAll(n => n.Pod.Name == pod.Name);
        var bound = new BoundPod(pod, gpus);
        try
        {
            await bindings.Add(Name, bound);
        }
        catch
        {
            // The write may have landed without its answer: hold the room and settle it once Redis answers (see _inDoubt).
            _inDoubt.Add(pod.Name);
            ResyncSoon();
            throw;
        }
        await Publish(NodeChangeKind.PodBound, bound: bound);
        // A pod let onto a NoExecute taint it tolerates only for a while starts its time now, as kube's taint manager does.
        if (Taints.NoExecuteEviction(pod.Tolerations, NoExecuteTaints()) is { } eviction) Carry([(bound, eviction)]);
        return new Reservation(true, gpus, null);
    }

    /// <summary>The pod came back for the reservation in doubt: write it (again; the write is idempotent) and tell the views.</summary>
    private async Task Confirm(BoundPod bound)
    {
        await bindings.Add(Name, bound);
        _inDoubt.Remove(bound.Pod.Name);
        await Publish(NodeChangeKind.PodBound, bound: bound);
    }

    // Kept alive: until Redis has the node's bindings again, memory is the only place that knows them.
    private void ResyncSoon() => _resync ??= this.RegisterGrainTimer(Resync, new GrainTimerCreationOptions(ResyncRetry, ResyncRetry) { KeepAlive = true });

    /// <summary>
    /// Writes the node's bindings again, as memory holds them less the reservations still in doubt, in one atomic step;
    /// then drops those from memory. Throws (retried next tick) while Redis is down. A non-interleaving timer, so no
    /// reservation or release runs between the write and the drop.
    /// </summary>
    private async Task Resync(CancellationToken cancellation)
    {
        await bindings.Replace(Name, [.. BoundPods.Where(b => !_inDoubt.Contains(b.Pod.Name))]);
        _resync?.Dispose();
        _resync = null;
        foreach (var pod in _inDoubt.ToList())
        {
            _inDoubt.Remove(pod);
            _local.Unbind(pod);
            await Publish(NodeChangeKind.PodReleased, released: pod);
        }
    }

    public Task Nominate(PodSpec pod)
    {
        _nominations.RemoveAll(n => n.Pod.Name == pod.Name);
        _nominations.Add((pod, clock.GetUtcNow() + NominationHold));
        return Task.CompletedTask;
    }

    public Task ForgetNomination(string podName)
    {
        if (_nominations.Count > 0) _nominations.RemoveAll(n => n.Pod.Name == podName);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The name of a nominated pod <paramref name="pod"/> would take room from, by the core's fit rule (per GPU device
    /// included), or null. Kube's filters count every nominated pod of equal or higher priority as already there
    /// (addGeneralNominatedPods, pkg/scheduler/framework/runtime/framework.go), so only strictly higher priorities pass.
    /// A nominee itself counts only the equal-priority holds nominated before its own: kube's second preemptor would have
    /// seen the first's nomination in its dry run and gone elsewhere, ours does not, and two equal nominees for room that
    /// takes one would otherwise refuse each other until their holds lapse.
    /// </summary>
    private string? NominatedFor(PodSpec pod, GpuAllocation gpus)
    {
        // Nearly every reserve: no preemptor waits here, and the bind path allocates nothing for it.
        if (_nominations.Count == 0) return null;
        var now = clock.GetUtcNow();
        _nominations.RemoveAll(n => now > n.Until);
        var own = _nominations.FindIndex(n => n.Pod.Name == pod.Name);
        var held = _nominations.Where((n, i) => n.Pod.Name != pod.Name
                && (n.Pod.Priority > pod.Priority || n.Pod.Priority == pod.Priority && (own < 0 || i < own)))
            .Select(n => n.Pod).OrderByDescending(p => p.Priority).ToList();
        return held.Count == 0 || _local.FitsAlongside(0, held, pod, gpus) ? null : held[0].Name;
    }

    public async Task<bool> Release(string podName)
    {
        if (!_local.Unbind(podName)) return false;
        _inDoubt.Remove(podName);
        // Its timed eviction goes with it: kept, it would evict a later pod of its name early, and grow with every pod.
        _timedEvictions.Remove(podName);
        if (state.State is { Draining: true } && BoundPods.Count == 0)
        {
            await RemoveDrained();
            return true;
        }
        // With a write-again pending, that write (memory, which no longer holds the pod) carries the release.
        if (_resync is null)
        {
            try
            {
                await bindings.Remove(Name, podName);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Released all the same (memory is the truth): Redis is brought in line by writing the node again once
                // it answers. Thrown instead, the binding Redis kept would outlive the release with no one left to remove it.
                LogReleaseNotStored(logger, e, Name, podName);
                ResyncSoon();
            }
        }
        await Publish(NodeChangeKind.PodReleased, released: podName);
        return true;
    }

    private void RebuildLocal(IReadOnlyList<BoundPod> pods)
    {
        _local = new ClusterState();
        if (state.State.Spec is not { } spec) return;
        _local.AddNode(spec, pods, _ready, state.State.Images,
            misfit: bound => throw new InvalidOperationException($"stored pod '{bound.Pod.Name}' does not fit node '{spec.Name}'"));
    }

    private IReadOnlyList<BoundPod> BoundPods => _local.NodeCount == 0 ? [] : _local.PodsOn(0);

    private Task PublishInfo() => Publish(NodeChangeKind.Info,
        new NodeInfo(state.State.Spec!, _ready, _utilization, _lastTelemetry, state.State.Images ?? [], state.State.Draining, Created, ReadyChanged));

    /// <summary>Numbers the change and sends it to every silo's view (one-way): no silo waits on another.</summary>
    private async Task Publish(NodeChangeKind kind, NodeInfo? info = null, BoundPod? bound = null, string? released = null)
    {
        var change = new NodeChange(Name, _incarnation, ++_seq, kind, info, bound, released);
        await feed.EnsureFresh();
        feed.Publish(change);
    }

    private NodeView View() => new(state.State.Spec!, _ready, [.. BoundPods.OrderBy(b => b.Pod.Name, StringComparer.Ordinal)], _utilization, _lastTelemetry,
        state.State.Images, state.State.Draining, _incarnation, _seq, Created, ReadyChanged);

    /// <summary>When the node registered; for a node stored before that was kept, its Registered event's time while it is among the kept events.</summary>
    private DateTimeOffset? Created => state.State.RegisteredAt ?? state.State.Events?.FirstOrDefault(e => e.Reason == RegisteredReason)?.LastSeen;

    /// <summary>When the Ready condition last changed; one that never changed has been Ready since the node registered, as in Kubernetes.</summary>
    private DateTimeOffset? ReadyChanged => state.State.ReadyChangedAt ?? Created;

    private void AddEvent(string type, string reason, string message)
    {
        state.State = state.State with { Events = ObjectEvents.Append(state.State.Events ?? [], clock.GetUtcNow(), type, reason, message) };
        using (logger.BeginScope(new Dictionary<string, object?> { ["Node"] = this.GetPrimaryKeyString() }))
            logger.LogInformation("Node {Node} {Reason}: {Message}", this.GetPrimaryKeyString(), reason, message);
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Node {Node} released pod {Pod} but could not store the release; the node is written again from memory once Redis answers")]
    private static partial void LogReleaseNotStored(ILogger logger, Exception error, string node, string pod);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Node {Node} is drained but could not be removed; tried again in a second")]
    private static partial void LogDrainedNotRemoved(ILogger logger, Exception error, string node);

    private Outcome NotFound() => Outcome.NotFound($"node '{this.GetPrimaryKeyString()}' not found");
}
