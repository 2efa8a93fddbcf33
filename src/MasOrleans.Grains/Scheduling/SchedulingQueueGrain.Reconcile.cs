using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Grains.Nodes;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Scheduling;

public sealed partial class SchedulingQueueGrain
{
    /// <summary>Reservations of this shard's pods that looked orphaned on the previous pass: only a second sighting is acted on.</summary>
    private HashSet<(string Node, string Pod, DateTimeOffset? PodCreatedAt)> _suspects = [];

    private static readonly TimeSpan PodAnswerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Node allocations must equal the pods that really hold them. A node can hold a reservation nobody owns when a
    /// silo died between NodeGrain.Reserve and PodGrain.MarkScheduled and the retry bound the pod elsewhere, or
    /// between a pod failing and its node release. Every <see cref="SchedulerOptions.ReconcileSeconds"/> each shard
    /// checks the reservations of its own pods, as its silo's view has them from the nodes, against its own pod table;
    /// one that looks orphaned on two passes in a row (so a delete or a placement in progress is not mistaken for one)
    /// is checked against the pod grain itself, and freed only when the pod is gone, finished, or bound to another
    /// node, and its deletion is not still asking the node itself. A pod still waiting is left alone: the scheduler completes a reservation it finds. A reservation for another
    /// pod of the name (deleted since, and created again) is no pod's: the scheduler leaves it, and it is freed, by the
    /// creation time it was made for, so a pod of the name reserving meanwhile keeps its own.
    /// </summary>
    /// <remarks>
    /// Both sides are on this silo, so the check reads nothing across silos and copies no node: its cost is a walk
    /// over the view's reservations and this shard's table (only suspects and pokes call pod and node grains) (the index used to gather every shard's whole table every pass).
    /// </remarks>
    private async Task ReconcileReservations(CancellationToken cancellation)
    {
        if (!view.Ready.IsCompleted) return;
        // Pods in passing phases are asked to re-report (and a Scheduled one whose container start was lost starts it):
        // a silo that died between a pod's state write and its report left this table stale. So is an unschedulable pod
        // this shard does not queue: the one-way Retry that queues a waiting pod in a shard's new activation can be
        // dropped (sent to a pod on a silo stopping gracefully), and such a pod waited for good, capacity or not.
        foreach (var pod in _pods.Entries.Where(p => p.Phase is PodPhase.Scheduled or PodPhase.Pending
                     || (p.Phase == PodPhase.Unschedulable && !_queue.Contains(p.Name) && !_inFlight.ContainsKey(p.Name))))
            AskToEnqueue(pod.Name);

        var shard = Shard;
        var shards = options.Value.QueueShards;
        var seen = new HashSet<(string Node, string Pod, DateTimeOffset? PodCreatedAt)>();
        foreach (var reservation in view.Reservations(pod => QueueShards.Of(pod, shards) == shard))
        {
            // A waiting pod's is checked too (rare: a reservation outlives its bind by a pass at most): the table does not
            // say which pod of the name waits, the pod does.
            if (_pods.TryGet(reservation.Pod, out var entry) && entry.Phase.HoldsNode() && entry.NodeName == reservation.Node) continue;
            seen.Add(reservation);
        }
        var again = seen.Where(_suspects.Contains).ToList();
        _suspects = seen;
        await Task.WhenAll(again.Select(s => Reconcile(s.Node, s.Pod, s.PodCreatedAt)));
    }

    private async Task Reconcile(string node, string podName, DateTimeOffset? podCreatedAt)
    {
        var podGrain = GrainFactory.Reference<IPodGrain>(podName);
        PodView? pod;
        bool same;
        try
        {
            pod = await podGrain.Get().WaitAsync(PodAnswerTimeout);
            same = pod is not null && PodSpec.SameIncarnation(pod.Spec.CreatedAt, podCreatedAt);
            if (same && (pod!.Phase.IsWaiting() || (pod.Phase.HoldsNode() && pod.NodeName == node))) return;
            // Deleted while the node's silo was unavailable (normal after a silo death): the deletion asks the node again
            // each second, and releasing it here too only raced that retry, with a warning for a repair nobody missed.
            if (!same && await podGrain.ReleasePending(node, podCreatedAt).WaitAsync(PodAnswerTimeout)) return;
        }
        catch (TimeoutException)
        {
            return; // its silo may be dying: asked again on the next pass
        }
        bool released;
        try
        {
            released = await GrainFactory.Reference<INodeGrain>(node).Release(podName, podCreatedAt);
        }
        catch (Exception e) when (SiloStopping.BrokenByStop(e))
        {
            // The node's silo is stopping (it refuses writes) or the call broke: the reservation is still seen next
            // pass, and released then. Thrown, it failed the reconciliation timer. Only a refusal by a stopping silo is
            // part of a graceful stop; any other break is a failure to say.
            if (SiloStopping.RefusingSilo(e) is not null) LogReleaseLeftToNextPass(logger, node, podName);
            else LogReleaseBroken(logger, e, node, podName);
            return;
        }
        if (released)
            LogReleased(logger, node, podName, pod is null ? "gone" : !same ? "deleted (created again since)" : $"{pod.Phase} on {pod.NodeName ?? "no node"}");
    }

    [LoggerMessage(EventId = 1211, Level = LogLevel.Information, Message = "Reconciliation leaves node {Node}'s orphaned reservation for pod {Pod} to its next pass: the node's silo is stopping")]
    private static partial void LogReleaseLeftToNextPass(ILogger logger, string node, string pod);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Warning, Message = "Reconciliation could not release node {Node}'s orphaned reservation for pod {Pod} (the call broke); trying again next pass")]
    private static partial void LogReleaseBroken(ILogger logger, Exception error, string node, string pod);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Reconciled: node {Node} held a reservation for pod {Pod} which is {State}; released")]
    private static partial void LogReleased(ILogger logger, string node, string pod, string state);
}
