using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>
/// A pod bound to a node, with the GPU devices it holds and when its node took it (null: stored before this was kept, or
/// assumed by a cycle): a node's pods are kept in bind order. Preemption reads the bind time as kube's start time, and a pod
/// without one as not started (kube's GetPodStartTime: now, after every start).
/// </summary>
public sealed record BoundPod(PodSpec Pod, GpuAllocation Gpus, DateTimeOffset? BoundAt = null)
{
    /// <summary>Bind order for pods read back unordered (a node's stored bindings, a view's records); unknown times first, then by name.</summary>
    public static IEnumerable<BoundPod> InBindOrder(IEnumerable<BoundPod> pods) =>
        pods is IReadOnlyList<BoundPod> list && IsInBindOrder(list) ? list : pods.OrderBy(b => b, BindOrder);

    // Node views and clones already come in bind order: a check instead of a sort for every node of every view rebuild and
    // extender request.
    private static bool IsInBindOrder(IReadOnlyList<BoundPod> pods)
    {
        for (var i = 1; i < pods.Count; i++)
            if (BindOrder.Compare(pods[i - 1], pods[i]) > 0) return false;
        return true;
    }

    private static readonly Comparer<BoundPod> BindOrder = Comparer<BoundPod>.Create((a, b) =>
    {
        var byTime = (a.BoundAt ?? DateTimeOffset.MinValue).CompareTo(b.BoundAt ?? DateTimeOffset.MinValue);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.Pod.Name, b.Pod.Name);
    });
}
