using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Framework;

/// <summary>
/// kube's RunFilterPluginsWithNominatedPods (pkg/scheduler/framework/runtime/framework.go), which both the scheduling
/// cycle's filter pass (findNodesThatPassFilters) and preemption's SelectVictimsOnNode use: on a node where pods of equal
/// or higher priority are nominated (<see cref="ClusterState.NominatedAhead"/>), the filters run first with those pods
/// counted as running there (addGENominatedPods), so a pod cannot take room a preemptor is waiting for; only if the pod
/// passes do they run again without them (pod affinity may need the nominated pods absent). The node passes when both
/// passes do; a rejection in the first is the node's reason.
/// </summary>
public static class NominatedPods
{
    /// <summary>
    /// The first pass: <paramref name="filter"/> over a context PreFiltered with the pods nominated to the node ahead of
    /// <paramref name="pod"/> counted there; they are taken off again before returning. False, and nothing run, when no
    /// such pod is nominated there.
    /// </summary>
    public static bool TryFilterWith<T>(SchedulingProfile profile, ClusterState cluster, PodSpec pod, int node, Random random,
        Func<SchedulingContext, T> filter, out T result)
    {
        result = default!;
        if (cluster.NominatedAhead(node, pod) is not { } ahead) return false;
        foreach (var nominated in ahead) cluster.AddNominated(node, nominated);
        try
        {
            // A fresh PreFilter sees the added pods as kube's PreFilterExtensions.AddPod makes the cycle state see them.
            var context = new SchedulingContext(cluster, pod, random);
            foreach (var f in profile.Filters) f.PreFilter(context);
            result = filter(context);
            return true;
        }
        finally
        {
            foreach (var nominated in ahead) cluster.Unbind(nominated.Name);
        }
    }

    /// <summary>The first pass's rejection of the pod on the node, or null when none is nominated there ahead of it or it passes.</summary>
    public static string? Rejection(SchedulingProfile profile, ClusterState cluster, PodSpec pod, int node, Random random) =>
        TryFilterWith(profile, cluster, pod, node, random, context => FirstRejection(profile, context, node), out var reason) ? reason : null;

    /// <summary>The first of the profile's filters (those not skipped in PreFilter) that rejects the pod on the node, or null.</summary>
    private static string? FirstRejection(SchedulingProfile profile, SchedulingContext context, int node)
    {
        foreach (var filter in profile.Filters)
        {
            if (context.IsSkipped(filter, out _)) continue;
            if (filter.Filter(context, node) is { } reason) return reason;
        }
        return null;
    }
}
