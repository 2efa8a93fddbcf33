using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Kube;

/// <summary>
/// Per constraint, the number of matching pods in each topology domain, over the nodes that count for
/// spreading: nodes carrying every constraint's topology key and (nodeAffinityPolicy Honor, the default)
/// matching the pod's required node affinity; taints are ignored (nodeTaintsPolicy Ignore, the default).
/// </summary>
internal sealed class TopologySpreadCounts
{
    public TopologySpreadCounts(ClusterState cluster, PodSpec pod, List<TopologySpreadConstraint> constraints)
    {
        Constraints = constraints;
        Domains = new Dictionary<string, int>[constraints.Count];
        for (var i = 0; i < constraints.Count; i++) Domains[i] = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (!HasAllKeys(cluster, n) || !Matching.MatchesRequiredNodeAffinity(pod, cluster.Spec(n).Labels)) continue;
            for (var i = 0; i < constraints.Count; i++)
            {
                Matching.TryTopologyValue(cluster, n, constraints[i].TopologyKey, out var value);
                var count = Matching.CountMatchingPods(cluster, n, constraints[i].LabelSelector, pod.Namespace);
                Domains[i][value] = Domains[i].GetValueOrDefault(value) + count;
            }
        }
    }

    public List<TopologySpreadConstraint> Constraints { get; }

    /// <summary>Per constraint: topology value to matching pod count (TpValueToMatchNum).</summary>
    public Dictionary<string, int>[] Domains { get; }

    public bool HasAllKeys(ClusterState cluster, int node)
    {
        for (var i = 0; i < Constraints.Count; i++)
            if (!Matching.TryTopologyValue(cluster, node, Constraints[i].TopologyKey, out _)) return false;
        return true;
    }

    /// <summary>The constraints of the given whenUnsatisfiable, or null when the pod has none.</summary>
    public static List<TopologySpreadConstraint>? Select(PodSpec pod, string whenUnsatisfiable)
    {
        if (pod.TopologySpreadConstraints is not { Count: > 0 } all) return null;
        List<TopologySpreadConstraint>? selected = null;
        for (var i = 0; i < all.Count; i++)
            if (all[i].WhenUnsatisfiable == whenUnsatisfiable) (selected ??= []).Add(all[i]);
        return selected;
    }

    public const string DoNotSchedule = "DoNotSchedule";
    public const string ScheduleAnyway = "ScheduleAnyway";
}
