using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Workloads;

/// <summary>
/// Which replicas a scale-down removes, as kube's ReplicaSet chooses them (pkg/controller/replicaset/replica_set.go
/// getPodsToDelete, ranked by getPodsRankedByRelatedPodsOnSameNode; order from pkg/controller/controller_utils.go
/// ActivePodsWithRanks.Less): unassigned pods first; then not Running (kube's Pending, which here is also Scheduled:
/// the container is not up yet) before Running, which is ready here; then pods on nodes holding more of the workload's
/// pods; then the newest. Kube's pod-deletion-cost, ready-time and restart-count rules have nothing to read here
/// (no such annotation, no readiness time, no restarts: a failed container's pod is replaced), so the creation order
/// decides where they would.
/// </summary>
public static class ReplicaDeletionOrder
{
    /// <param name="replicas">The workload's live pods, oldest first (its creation order).</param>
    public static IReadOnlyList<string> PodsToDelete(IReadOnlyList<PodEntry> replicas, int count)
    {
        var onNode = replicas.Where(p => p.NodeName is not null).CountBy(p => p.NodeName!).ToDictionary();
        return replicas.Select((pod, age) => (pod, age))
            .OrderBy(r => r.pod.NodeName is null ? 0 : 1)
            .ThenBy(r => r.pod.Phase == PodPhase.Running ? 1 : 0)
            .ThenByDescending(r => r.pod.NodeName is { } node ? onNode[node] : 0)
            .ThenByDescending(r => r.age)
            .Take(count)
            .Select(r => r.pod.Name)
            .ToList();
    }
}
