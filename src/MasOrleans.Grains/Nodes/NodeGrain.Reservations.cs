using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Plugins.Kube;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Nodes;

/// <summary>The node's reservations: binding pods here, nominations that hold room, releases, and writing the bindings again after a failed write.</summary>
public sealed partial class NodeGrain
{
    private readonly NodeNominations _nominations = new();

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
    private const string SiloStoppingMessage = "its silo is stopping; the node's next activation, on another silo, takes reservations";
    private const string StoreUnsettled = "the node's last binding write failed; it takes new pods once Redis has its bindings again";
    private TimeSpan NominationHold => TimeSpan.FromSeconds(schedulerOptions.Value.NominationHoldSeconds);

    /// <remarks>One async step with <see cref="ReserveWhileActive"/>, not two: each step that waits for the binding's
    /// write costs its own state machine, continuation and task (about 0.4 KB a pod).</remarks>
    public async Task<Reservation> Reserve(PodSpec pod, GpuAllocation gpus)
    {
        if (state.State.Spec is null) return new Reservation(false, GpuAllocation.None, "node no longer exists");
        Reservation reservation;
        // Not a conflict (the cycle would try other nodes and could record the pod unschedulable): the reserver tries
        // the node's next activation once the cluster knows this silo stops (NodeReserver). One let in is counted until
        // its write landed: the stop waits for it before the cluster hears of the stop (SiloStopping).
        using (var write = TryBeginWrite())
        {
            reservation = write.Counted
                ? await ReserveWhileActive(pod, gpus)
                : new Reservation(false, GpuAllocation.None, $"node {Name}: {SiloStoppingMessage}", SiloStopping: true);
        }
        // A node that no longer exists names no silo, so schedulers forget where it was.
        return state.State.Spec is null ? reservation : reservation with { Host = silo.SiloAddress };
    }

    private async Task<Reservation> ReserveWhileActive(PodSpec pod, GpuAllocation gpus)
    {
        var superseded = HeldPod(pod.Name);
        if (superseded is not null)
        {
            // Idempotent: a scheduler retrying after a crash gets the placement it already holds.
            if (PodSpec.SameIncarnation(superseded.Pod.CreatedAt, pod.CreatedAt))
            {
                if (_inDoubt.Contains(pod.Name)) await Confirm(superseded);
                return new Reservation(true, superseded.Gpus, null);
            }
            // Another pod of the name holds the room. A later one proves the held one deleted: it replaces it below
            // (the late cycle's release names the deleted pod and frees nothing). An earlier one is that late cycle.
            if (PodSpec.DeletedSince(pod.CreatedAt, superseded.Pod.CreatedAt))
                return new Reservation(false, GpuAllocation.None, $"pod {pod.Name} was deleted and created again; the node holds the newer one");
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
        if (!NodeUnschedulableFilter.Admits(pod, state.State.Spec!.Unschedulable)) return new Reservation(false, GpuAllocation.None, "node is cordoned");
        if (superseded is not null) await Release(pod.Name, superseded.Pod.CreatedAt);
        if (NominatedFor(pod, gpus) is { } holder) return new Reservation(false, GpuAllocation.None, $"room is held for nominated pod {holder} of equal or higher priority");
        // Stamped in the binding the node writes anyway: the bind order, kube's start time for preemption, survives a re-read.
        var boundAt = clock.GetUtcNow();
        // One record of the binding: the node's own state, its store write and its views' change all hold this one.
        var bound = new BoundPod(pod, gpus, boundAt);
        if (!_local.TryBind(0, bound)) return new Reservation(false, GpuAllocation.None, "resources or devices no longer free");
        _nominations.Forget(pod.Name);
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
        Publish(NodeChangeKind.PodBound, bound: bound);
        // A pod let onto a NoExecute taint it tolerates only for a while starts its time now, as kube's taint manager does.
        if (Taints.NoExecuteEviction(pod.Tolerations, NoExecuteTaints()) is { } eviction) Carry([(bound, eviction)]);
        return new Reservation(true, gpus, null);
    }

    /// <summary>The pod came back for the reservation in doubt: write it (again; the write is idempotent) and tell the views.</summary>
    private async Task Confirm(BoundPod bound)
    {
        await bindings.Add(Name, bound);
        _inDoubt.Remove(bound.Pod.Name);
        Publish(NodeChangeKind.PodBound, bound: bound);
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
        // Written from this activation's memory, it would erase what the next activation (see SiloStopping) stored since.
        using (var write = TryBeginWrite())
        {
            if (!write.Counted) return;
            await bindings.Replace(Name, [.. BoundPods.Where(b => !_inDoubt.Contains(b.Pod.Name))]);
        }
        _resync?.Dispose();
        _resync = null;
        foreach (var pod in _inDoubt.ToList())
        {
            _inDoubt.Remove(pod);
            _local.Unbind(pod);
            Publish(NodeChangeKind.PodReleased, released: pod);
        }
    }

    public Task<Nomination> Nominate(PodSpec pod, bool preempting = false, long version = 0)
    {
        var below = preempting ? _nominations.Below(pod.Priority) : null;
        _nominations.Hold(pod, clock.GetUtcNow() + NominationHold, version);
        return Task.FromResult(below is null ? Nomination.None : new Nomination(below));
    }

    public Task ForgetNomination(string podName, DateTimeOffset? podCreatedAt = null)
    {
        _nominations.Forget(podName, podCreatedAt);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The name of a nominated pod <paramref name="pod"/> would take room from (<see cref="NodeNominations.Ahead"/>), by
    /// the core's fit rule (per GPU device included), or null.
    /// </summary>
    private string? NominatedFor(PodSpec pod, GpuAllocation gpus) =>
        // Nearly every reserve: no preemptor waits here, and the clock is not read.
        _nominations.Count > 0 && _nominations.Ahead(pod, clock.GetUtcNow()) is { } held && !_local.FitsAlongside(0, held, pod, gpus) ? held[0].Name : null;

    /// <summary>The reservation held under the name, whichever pod of the name it is for.</summary>
    /// <remarks>A loop, not First with a lambda: asked on every reserve, and a lambda capturing the name allocates on entry.</remarks>
    private BoundPod? HeldPod(string podName)
    {
        if (!_local.TryGetPodLocation(podName, out _, out _)) return null;
        var pods = BoundPods;
        for (var i = 0; i < pods.Count; i++)
            if (pods[i].Pod.Name == podName) return pods[i];
        return null;
    }

    public async Task<bool> Release(string podName, DateTimeOffset? podCreatedAt = null)
    {
        // A cycle for a pod deleted since (and created again) must not free what the node holds for the new one.
        if (HeldPod(podName) is not { } held || (podCreatedAt is not null && !PodSpec.SameIncarnation(held.Pod.CreatedAt, podCreatedAt))) return false;
        using var write = BeginWrite();
        if (!_local.Unbind(podName)) return false;
        _inDoubt.Remove(podName);
        // Its timed eviction goes with it: kept, it would evict a later pod of its name early, and grow with every pod.
        _timedEvictions.Remove(podName);
        if (state.State is { Draining: true } && BoundPods.Count == 0)
        {
            // Under this write's count: asking for another could find the stop begun since, and skip the removal that
            // stores this release while Release answered true.
            await RemoveDrainedCounted();
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
        Publish(NodeChangeKind.PodReleased, released: podName);
        return true;
    }

    public async Task<bool> Relabel(string podName, DateTimeOffset? podCreatedAt, IReadOnlyDictionary<string, string> labels)
    {
        if (HeldPod(podName) is not { } held || !PodSpec.SameIncarnation(held.Pod.CreatedAt, podCreatedAt)) return false;
        if (PodSpec.SameLabels(held.Pod.Labels, labels)) return true;
        using var write = BeginWrite();
        var relabeled = held with { Pod = held.Pod with { Labels = labels } };
        // Stored before memory changes; with a write-again pending, that write (from memory) carries it, as it carries a
        // release. A failed write may still have landed: Redis is written again from memory (the old labels), or it
        // would keep labels the caller was told did not take.
        if (_resync is null)
        {
            try
            {
                await bindings.Add(Name, relabeled);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ResyncSoon();
                throw;
            }
        }
        _local.Relabel(podName, labels);
        Publish(NodeChangeKind.PodBound, bound: relabeled);
        return true;
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Node {Node} released pod {Pod} but could not store the release; the node is written again from memory once Redis answers")]
    private static partial void LogReleaseNotStored(ILogger logger, Exception error, string node, string pod);
}
