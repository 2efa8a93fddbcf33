using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Scheduling;

public sealed partial class ClusterIndexGrain
{
    /// <summary>
    /// Node allocations must equal the pods that really hold them. A node can hold a reservation nobody owns when a
    /// silo died between NodeGrain.Reserve and PodGrain.MarkScheduled and the retry bound the pod elsewhere, or
    /// between a pod failing and its node release. Every <see cref="SchedulerOptions.ReconcileSeconds"/> each
    /// reservation is checked against the index and, if suspicious, against the pod grain itself; it is freed only
    /// when the pod is gone, finished, or bound to another node. A pod still waiting is left alone: the scheduler
    /// completes a reservation it finds (that is the in-flight window, not an orphan).
    /// </summary>
    private async Task ReconcileReservations(CancellationToken cancellation)
    {
        var suspects = new List<(string Node, string Pod)>();
        if (!view.Ready.IsCompleted) return;
        foreach (var node in view.Nodes())
        {
            foreach (var bound in node.Pods)
            {
                if (_pods.TryGetValue(bound.Pod.Name, out var entry)
                    && (entry.Phase.IsWaiting() || (entry.Phase.HoldsNode() && entry.NodeName == node.Name))) continue;
                suspects.Add((node.Name, bound.Pod.Name));
            }
        }
        foreach (var (node, podName) in suspects)
        {
            var pod = await GrainFactory.GetGrain<IPodGrain>(podName).Get();
            if (pod is not null && (pod.Phase.IsWaiting() || (pod.Phase.HoldsNode() && pod.NodeName == node))) continue;
            if (await GrainFactory.GetGrain<INodeGrain>(node).Release(podName))
                logger.LogWarning("Reconciled: node {Node} held a reservation for pod {Pod} which is {State}; released", node, podName,
                    pod is null ? "gone" : $"{pod.Phase} on {pod.NodeName ?? "no node"}");
        }
        // Pods in passing phases are asked to re-report (and a Scheduled one whose container start was lost starts it):
        // a crash between a pod's change and its shard's batch leaves a stale entry here.
        var resync = _pods.Values.Where(p => p.Phase is PodPhase.Scheduled or PodPhase.Pending).Select(p => p.Name).ToList();
        foreach (var name in resync) _ = GrainFactory.GetGrain<IPodGrain>(name).Retry();
    }
}
