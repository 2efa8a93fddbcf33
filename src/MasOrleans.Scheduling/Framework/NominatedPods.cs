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
    /// such pod is nominated there. <paramref name="state"/> is passed to <paramref name="filter"/>, so that a static
    /// lambda serves: a capturing one is allocated on every call, nominations or none, and its callers run per node.
    /// </summary>
    public static bool TryFilterWith<TState, T>(SchedulingProfile profile, ClusterState cluster, PodSpec pod, int node, Random random,
        TState state, Func<SchedulingContext, TState, T> filter, out T result)
    {
        result = default!;
        if (cluster.NominatedAhead(node, pod) is not { } ahead) return false;
        foreach (var nominated in ahead) cluster.AddNominated(node, nominated);
        try
        {
            // A fresh PreFilter sees the added pods as kube's PreFilterExtensions.AddPod makes the cycle state see them.
            var context = new SchedulingContext(cluster, pod, random);
            foreach (var f in profile.Filters) f.PreFilter(context);
            result = filter(context, state);
            return true;
        }
        finally
        {
            foreach (var nominated in ahead) cluster.Unbind(nominated.Name);
        }
    }

    /// <summary>
    /// The GPU devices <paramref name="pod"/> takes on the node, chosen with the pods nominated there ahead of it counted
    /// as the filter pass counts them: the node grain keeps their room (ClusterState.FitsAlongside) and refuses a pod that
    /// takes a device one of them needs, on every retry.
    /// </summary>
    public static GpuAllocation SelectDevices(SchedulingProfile profile, ClusterState cluster, int node, PodSpec pod, Random random)
    {
        if (pod.Gpu.IsNone || cluster.NominatedAhead(node, pod) is not { } ahead) return profile.DeviceSelector.Select(cluster, node, pod, random);
        foreach (var nominated in ahead) cluster.AddNominated(node, nominated);
        try
        {
            return profile.DeviceSelector.Select(cluster, node, pod, random);
        }
        finally
        {
            foreach (var nominated in ahead) cluster.Unbind(nominated.Name);
        }
    }

    /// <summary>The first pass's rejection of the pod on the node, or null when none is nominated there ahead of it or it passes.</summary>
    public static string? Rejection(SchedulingProfile profile, ClusterState cluster, PodSpec pod, int node, Random random) =>
        TryFilterWith(profile, cluster, pod, node, random, (profile, node), static (context, s) => FirstRejection(s.profile, context, s.node), out var reason)
            ? reason : null;

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
