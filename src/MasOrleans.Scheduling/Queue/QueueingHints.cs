using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Queue;

/// <summary>Which waiting pods a cluster event may help, so an event moves those alone (kube's queueing hints, coarsely).</summary>
public static class QueueingHints
{
    /// <summary>
    /// A pod whose placement counts bound pods: required pod affinity (it needs a matching pod bound first) or topology
    /// spread (a pod bound elsewhere can lower the skew). kube-scheduler's AssignedPodAdded moves these
    /// (getUnschedulablePodsWithCrossTopologyTerm, pkg/scheduler/backend/queue/scheduling_queue.go), which also matches
    /// the bound pod against the terms; here any bound pod moves them.
    /// </summary>
    public static bool CountsBoundPods(PodSpec pod) =>
        pod.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { Count: > 0 }
        || pod.TopologySpreadConstraints is { Count: > 0 };
}
