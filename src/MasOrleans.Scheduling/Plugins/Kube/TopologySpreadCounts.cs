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
    /// <param name="requireAllKeys">
    /// False for the system default constraints (scoring.go: requireAllTopologies): a node missing a key still counts,
    /// in that key's "" domain, so nodes without a zone label keep their hostname spreading.
    /// </param>
    public TopologySpreadCounts(ClusterState cluster, PodSpec pod, List<TopologySpreadConstraint> constraints, bool requireAllKeys = true)
    {
        Constraints = constraints;
        RequireAllKeys = requireAllKeys;
        Domains = new Dictionary<string, int>[constraints.Count];
        for (var i = 0; i < constraints.Count; i++) Domains[i] = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (IsIgnored(cluster, n) || !Matching.MatchesRequiredNodeAffinity(pod, cluster.Spec(n))) continue;
            for (var i = 0; i < constraints.Count; i++)
            {
                if (!Matching.TryTopologyValue(cluster, n, constraints[i].TopologyKey, out var value)) value = "";
                var count = Matching.CountMatchingPods(cluster, n, constraints[i].LabelSelector, pod.Namespace);
                Domains[i][value] = Domains[i].GetValueOrDefault(value) + count;
            }
        }
    }

    public List<TopologySpreadConstraint> Constraints { get; }

    public bool RequireAllKeys { get; }

    /// <summary>Per constraint: topology value to matching pod count (TpValueToMatchNum).</summary>
    public Dictionary<string, int>[] Domains { get; }

    public bool HasAllKeys(ClusterState cluster, int node)
    {
        for (var i = 0; i < Constraints.Count; i++)
            if (!Matching.TryTopologyValue(cluster, node, Constraints[i].TopologyKey, out _)) return false;
        return true;
    }

    /// <summary>A node left out of spreading: it misses a key while every key is required.</summary>
    public bool IsIgnored(ClusterState cluster, int node) => RequireAllKeys && !HasAllKeys(cluster, node);

    /// <summary>
    /// kube-scheduler's systemDefaultConstraints (podtopologyspread/plugin.go) as buildDefaultConstraints applies them
    /// (common.go): for a pod without constraints of its own whose owner's selector helper.DefaultSelector reads
    /// (spread.go), hostname maxSkew 3 then zone maxSkew 5, ScheduleAnyway, selecting the owner's pods. Else null.
    /// </summary>
    public static List<TopologySpreadConstraint>? SystemDefaults(PodSpec pod)
    {
        if (pod.TopologySpreadConstraints is { Count: > 0 }) return null;
        if (pod.Owner is not { SelectorCounts: true } owner || IsEmpty(owner.Selector)) return null;
        return
        [
            new TopologySpreadConstraint(3, Matching.HostnameLabel, ScheduleAnyway, owner.Selector),
            new TopologySpreadConstraint(5, ZoneLabel, ScheduleAnyway, owner.Selector),
        ];
    }

    /// <summary>An empty selector selects nothing here (labels.Selector.Empty in buildDefaultConstraints: no constraints).</summary>
    private static bool IsEmpty(LabelSelector selector) =>
        selector.MatchLabels is not { Count: > 0 } && selector.MatchExpressions is not { Count: > 0 };

    public const string ZoneLabel = "topology.kubernetes.io/zone";

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
