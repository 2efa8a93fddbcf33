using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// How the view follows the node grains: their changes, applied in each node's order as they arrive one-way, and the
/// re-reads of a node whose changes have a gap, are behind, or come from an activation the view does not know.
/// </summary>
public sealed partial class SiloClusterView
{
    public Task NodesChanged(IReadOnlyList<NodeChange> changes)
    {
        var gained = false;
        var assigned = false;
        List<string>? resync = null;
        List<string>? gaps = null;
        lock (_lock)
        {
            foreach (var change in changes)
            {
                switch (Offer(change))
                {
                    case Applied.Gained: gained = true; break;
                    case Applied.Assigned: assigned = true; break;
                    case Applied.NeedsResync: (resync ??= []).Add(change.Node); break;
                    case Applied.Gap: (gaps ??= []).Add(change.Node); break;
                }
            }
        }
        foreach (var node in resync ?? []) _ = Resync(node);
        foreach (var node in gaps ?? []) _ = ResyncIfGapStays(node);
        if (gained) CapacityAppeared?.Invoke();
        else if (assigned) PodAssigned?.Invoke();
        return Task.CompletedTask;
    }

    public Task NodesLatest(IReadOnlyList<NodeLatest> latest)
    {
        List<NodeLatest>? behind = null;
        lock (_lock)
        {
            foreach (var node in latest)
                if (IsBehind(node)) (behind ??= []).Add(node);
        }
        foreach (var node in behind ?? []) _ = ResyncIfStillBehind(node);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The view has not applied the node's latest change (or knows another activation of it), and is not already
    /// waiting on a gap. A node the view does not know is left to the membership renewal, which reads it.
    /// </summary>
    private bool IsBehind(NodeLatest latest) =>
        _nodes.TryGetValue(latest.Node, out var record) && !record.AwaitingGap
        && (record.Incarnation != latest.Incarnation || record.Seq < latest.Seq);

    /// <summary>The changes up to the latest may still be on their way (one-way messages keep no order).</summary>
    private Task ResyncIfStillBehind(NodeLatest latest) => ResyncAfterGrace(latest.Node, () => IsBehind(latest));

    /// <summary>
    /// Re-reads the node after the grace if <paramref name="stillNeeded"/> (checked under the lock) says the missing
    /// change was lost, not late: the one wait behind every re-read asked for by a gap or a repeat.
    /// </summary>
    private async Task ResyncAfterGrace(string name, Func<bool> stillNeeded)
    {
        await Task.Delay(_gapGrace);
        lock (_lock)
        {
            if (!stillNeeded()) return;
        }
        await Resync(name);
    }

    private enum Applied { Nothing, Changed, Assigned, Gained, NeedsResync, Gap }

    /// <summary>Re-reads the node if a change is still missing after the grace (it was lost, not late).</summary>
    private Task ResyncIfGapStays(string name) => ResyncAfterGrace(name, () =>
    {
        if (!_nodes.TryGetValue(name, out var record) || !record.AwaitingGap) return false;
        record.AwaitingGap = false;
        return record.Pending.Count > 0;
    });

    private Applied Offer(NodeChange change)
    {
        if (!_nodes.TryGetValue(change.Node, out var record))
        {
            if (change is { Kind: NodeChangeKind.Info, Seq: 1, Info: { } info })
            {
                AddNode(change.Node, new NodeRecord(info, change.Incarnation, 1), []);
                return Applied.Gained;
            }
            return change.Kind == NodeChangeKind.Removed ? Applied.Nothing : Applied.NeedsResync;
        }
        if (change.Incarnation != record.Incarnation)
        {
            // A new activation of the node grain (its silo died) or a node registered again under the same name.
            return change.Kind == NodeChangeKind.Removed ? Remove(change.Node) : Applied.NeedsResync;
        }
        if (change.Seq <= record.Seq) return Applied.Nothing;
        if (change.Seq > record.Seq + 1)
        {
            record.Pending[change.Seq] = change;
            if (record.AwaitingGap) return Applied.Nothing;
            record.AwaitingGap = true;
            return Applied.Gap;
        }
        var result = Apply(record, change);
        while (record.Pending.Count > 0 && record.Pending.First().Key <= record.Seq + 1)
        {
            var next = record.Pending.First();
            record.Pending.Remove(next.Key);
            if (next.Key != record.Seq + 1) continue;
            var applied = Apply(record, next.Value);
            if (applied == Applied.Gained || (applied == Applied.Assigned && result != Applied.Gained)) result = applied;
        }
        return result;
    }

    private Applied Remove(string node)
    {
        RemoveNode(node);
        return Applied.Nothing;
    }

    private Applied Apply(NodeRecord record, NodeChange change)
    {
        record.Seq = change.Seq;
        var node = _state.IndexOf(change.Node);
        switch (change.Kind)
        {
            case NodeChangeKind.PodBound when change.Bound is { } bound:
                record.Bind(bound);
                if (_rebuild || node < 0) return Applied.Assigned;
                if (_state.TryGetPodLocation(bound.Pod.Name, out var at, out _))
                {
                    if (at == node)
                    {
                        // Assumed by a cycle on this silo, now confirmed, with the bind time preemption reads as its start.
                        // Or relabelled: a label gone may let an anti-affine pod in, one added an affine one (kube's
                        // UpdatePodLabel event), so every waiting pod is tried again.
                        return _state.Confirm(bound) ? Applied.Gained : Applied.Assigned;
                    }
                    // Assumed on another node: that node's room, held in this view alone, is freed (RoomFreedInView).
                    _state.Unbind(bound.Pod.Name);
                    if (!_state.TryBind(node, bound)) RebuildNode(change.Node, record);
                    return Applied.Gained;
                }
                if (!_state.TryBind(node, bound)) RebuildNode(change.Node, record);
                return Applied.Assigned;
            case NodeChangeKind.PodReleased when change.Released is { } pod:
                record.Release(pod);
                if (!_rebuild && node >= 0 && _state.TryGetPodLocation(pod, out var where, out _) && where == node) _state.Unbind(pod);
                return Applied.Gained;
            case NodeChangeKind.Info when change.Info is { } info:
                var before = record.Info;
                record.Info = info;
                if (!_rebuild && node >= 0) ApplyInfo(node, before, info);
                return GainedCapacity(before, info) ? Applied.Gained : Applied.Changed;
            case NodeChangeKind.Removed:
                RemoveNode(change.Node);
                return Applied.Nothing;
            default:
                throw new InvalidOperationException($"malformed change {change.Kind} of node {change.Node}");
        }
    }

    private void ApplyInfo(int node, NodeInfo before, NodeInfo info)
    {
        if (before.Spec.Capacity != info.Spec.Capacity || before.Spec.MaxPods != info.Spec.MaxPods)
        {
            _rebuild = true;
            return;
        }
        if (!ReferenceEquals(before.Spec, info.Spec)) _state.UpdateNode(info.Spec);
        if (before.Ready != info.Ready) _state.SetReady(node, info.Ready);
        SetUtilization(node, info);
        foreach (var image in info.Images) _state.AddImage(node, image);
    }

    private static bool GainedCapacity(NodeInfo before, NodeInfo after) =>
        (after.Ready && !before.Ready)
        || (before.Spec.Unschedulable && !after.Spec.Unschedulable)
        || !ReferenceEquals(before.Spec.Labels, after.Spec.Labels)
        || !ReferenceEquals(before.Spec.Taints, after.Spec.Taints)
        || after.Spec.MaxPods > before.Spec.MaxPods
        || ResourceNames.All.Any(kind => after.Spec.Capacity[kind] > before.Spec.Capacity[kind]);

    /// <summary>First wait before a failed re-read is tried again; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(16);

    /// <summary>Reads the node from its grain and replaces what the view had; changes newer than the read are kept.</summary>
    public Task Resync(string name) => Resync(name, FirstRetryDelay);

    private volatile bool _stopped;

    /// <summary>
    /// This silo is stopping (before Orleans deactivates its grains): its view, which goes with it and schedules nothing
    /// more (its shards start no cycles), reads no more nodes. Orleans is closing the messaging such a read needs, and
    /// each failed loudly, then was tried again. A read-back queued behind a read under way fails now: that read may not
    /// answer before the messaging closes, and the write waiting on it would hang with it.
    /// </summary>
    public void Stop()
    {
        _stopped = true;
        List<TaskCompletionSource> waiters;
        lock (_lock)
        {
            waiters = _readWaiters.Values.SelectMany(w => w).ToList();
            _readWaiters.Clear();
        }
        Answer(waiters, new OrleansException("This silo is stopping: no node is read into its view"));
    }

    /// <summary>
    /// A failed read is tried again after <paramref name="retryDelay"/>: the read was asked for because the view is
    /// behind (a new activation, a lost change), and the node may change no more (the load ended, its silo died),
    /// so nothing else would bring the view up to date until the periodic full re-read.
    /// </summary>
    private async Task Resync(string name, TimeSpan retryDelay)
    {
        List<TaskCompletionSource>? waiters;
        if (_stopped)
        {
            lock (_lock) waiters = TakeReadWaiters(name);
            Answer(waiters, new OrleansException($"This silo is stopping: node {name} was not read"));
            return;
        }
        lock (_lock)
        {
            if (!_resyncing.Add(name))
            {
                _resyncAgain.Add(name);
                return;
            }
            waiters = TakeReadWaiters(name);
        }
        Exception? failure = null;
        try
        {
            var view = await grains.Reference<INodeGrain>(name).GetView();
            var gained = false;
            var gapLeft = false;
            lock (_lock)
            {
                if (view is null)
                {
                    RemoveNode(name);
                    return;
                }
                _nodes.TryGetValue(name, out var old);
                var pending = old?.Incarnation == view.Incarnation ? old.Pending.Where(p => p.Key > view.Seq).ToList() : [];
                var record = new NodeRecord(new NodeInfo(view.Spec, view.Ready, view.Utilization, view.LastTelemetry, view.Images ?? [], view.Draining, view.Created, view.ReadyChanged), view.Incarnation, view.Seq);
                foreach (var bound in view.Pods) record.Bind(bound);
                foreach (var (seq, change) in pending) record.Pending[seq] = change;
                if (old is null || old.Info.Spec.Capacity != record.Info.Spec.Capacity)
                {
                    if (old is not null) _rebuild = true;
                    if (old is not null) _nodes[name] = record;
                    else AddNode(name, record, view.Pods);
                }
                else
                {
                    _nodes[name] = record;
                    var node = _state.IndexOf(name);
                    if (!_rebuild && node >= 0)
                    {
                        ApplyInfo(node, old.Info, record.Info);
                        RebuildNode(name, record);
                    }
                }
                while (record.Pending.Count > 0 && record.Pending.First().Key == record.Seq + 1)
                {
                    var next = record.Pending.First();
                    record.Pending.Remove(next.Key);
                    Apply(record, next.Value);
                }
                // Waiting pods are woken only by a read that brought something the view did not have (a node, an
                // activation or changes it had missed): the periodic full re-read of unchanged nodes woke every
                // unschedulable pod every 30 s, a retry no cluster event asked for.
                gained = old is null || old.Incarnation != record.Incarnation || old.Seq != record.Seq;
                // Changes newer than the read that still do not follow on (one arrived during the read, its predecessor
                // is late): kept, and waited for like any gap, or this node would stay behind until its next change.
                gapLeft = record.Pending.Count > 0;
                record.AwaitingGap = gapLeft;
            }
            if (gapLeft) _ = ResyncIfGapStays(name);
            if (gained) CapacityAppeared?.Invoke();
        }
        catch (Exception e) when (_stopped)
        {
            // A read under way when this silo's stop began, cut short by the messaging closing: the view goes with the silo.
            failure = e;
            LogResyncCutShort(logger, name, e.GetType().Name);
        }
        catch (Exception e) when (membership is not null && silo is not null && SiloStopping.BrokenBySiblingsStop(membership, silo.SiloAddress, e))
        {
            failure = e;
            _ = ResyncOnceStoppingSilosAreGone(name, e, retryDelay);
        }
        catch (Exception e)
        {
            failure = e;
            LogResyncFailed(logger, e, name, retryDelay);
            _ = RetryResync(name, retryDelay);
        }
        finally
        {
            bool again;
            lock (_lock)
            {
                _resyncing.Remove(name);
                again = _resyncAgain.Remove(name);
            }
            Answer(waiters, failure);
            if (again) _ = Resync(name);
        }
    }

    /// <summary>
    /// Callers waiting for a read of a node that starts after they asked (<see cref="ReadAfterWrite"/>): the next read of
    /// that node to start takes them, and answers them when its view is applied.
    /// </summary>
    private readonly Dictionary<string, List<TaskCompletionSource>> _readWaiters = new(StringComparer.Ordinal);

    /// <summary>
    /// Reads the node into the view after a write to it, and completes once a read that STARTED after this call is
    /// applied: <see cref="Resync(string)"/> returns at once when a read is under way, and that read may predate the
    /// write, so a write's precondition check after it (the next /k8s write under the node's gate) could read the state
    /// before the write at its version and both writes be made. A failed read fails the task with its exception (an
    /// outage, answered 503 by /k8s); it is still retried in the background for the view.
    /// </summary>
    public Task ReadAfterWrite(string name)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (!_readWaiters.TryGetValue(name, out var waiters)) _readWaiters[name] = waiters = [];
            waiters.Add(waiter);
        }
        _ = Resync(name);
        return waiter.Task;
    }

    private List<TaskCompletionSource>? TakeReadWaiters(string name) => _readWaiters.Remove(name, out var waiters) ? waiters : null;

    private static void Answer(List<TaskCompletionSource>? waiters, Exception? failure)
    {
        foreach (var waiter in waiters ?? [])
        {
            if (failure is null) waiter.SetResult();
            else waiter.SetException(failure);
        }
    }

    /// <summary>
    /// A node grain on a sibling stopping gracefully is leaving it, and a read breaks as that silo closes its messaging
    /// while this silo's directory still names it: read again once the stop that broke it is gone
    /// (<see cref="SiloStopping.StopGoneAfterBreak"/>: a refusal in the sibling's name can come before this silo's
    /// membership shows the stop), when it reaches the node's next activation; a wait that ends with that stop not shown
    /// gone is logged and read again later. In the background, since node registrations and the extender's requests
    /// await a re-read.
    /// </summary>
    private async Task ResyncOnceStoppingSilosAreGone(string name, Exception error, TimeSpan retryDelay)
    {
        LogResyncAwaitsStop(logger, name, error.GetType().Name);
        if (await SiloStopping.StopGoneAfterBreak(membership!, silo!.SiloAddress, error))
        {
            await Resync(name, retryDelay);
            return;
        }
        if (_stopped)
        {
            // This silo's stop began during the wait: the view goes with it.
            LogResyncCutShort(logger, name, error.GetType().Name);
            return;
        }
        LogResyncFailed(logger, error, name, retryDelay);
        await RetryResync(name, retryDelay);
    }

    /// <summary>Nodes with a retry scheduled: one per node, however many reads failed meanwhile.</summary>
    private readonly HashSet<string> _retrying = new(StringComparer.Ordinal);

    private async Task RetryResync(string name, TimeSpan delay)
    {
        lock (_lock)
        {
            if (!_retrying.Add(name)) return;
        }
        await Task.Delay(delay);
        lock (_lock) _retrying.Remove(name);
        var next = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
        await Resync(name, next);
    }
}
