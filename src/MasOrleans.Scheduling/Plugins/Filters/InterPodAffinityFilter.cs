using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>
/// kube-scheduler's InterPodAffinity filter (filtering.go): existing pods' required anti-affinity against
/// the incoming pod, then the pod's required affinity (every term's domain must hold a pod matching ALL
/// terms, unless no such pod exists anywhere and the pod matches its own terms), then its required anti-affinity.
/// </summary>
public sealed class InterPodAffinityFilter : IFilterPlugin
{
    public const string ExistingAntiAffinityReason = "node(s) didn't satisfy existing pods anti-affinity rules";
    public const string AffinityReason = "node(s) didn't match pod affinity rules";
    public const string AntiAffinityReason = "node(s) didn't match pod anti-affinity rules";

    public string Name => "InterPodAffinity";

    private sealed class State
    {
        public Dictionary<(string Key, string Value), int> ExistingAntiAffinity { get; } = new();
        public Dictionary<(string Key, string Value), int> Affinity { get; } = new();
        public Dictionary<(string Key, string Value), int> AntiAffinity { get; } = new();
        public IReadOnlyList<PodAffinityTerm> AffinityTerms { get; init; } = [];
        public IReadOnlyList<PodAffinityTerm> AntiAffinityTerms { get; init; } = [];
        public bool PodMatchesOwnAffinity { get; init; }
    }

    public void PreFilter(SchedulingContext context)
    {
        var cluster = context.Cluster;
        var pod = context.Pod;
        var affinityTerms = pod.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [];
        var antiAffinityTerms = pod.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [];
        if (cluster.PodsWithAffinityTotal == 0 && affinityTerms.Count == 0 && antiAffinityTerms.Count == 0)
        {
            context.Skip(this);
            return;
        }
        var state = new State
        {
            AffinityTerms = affinityTerms,
            AntiAffinityTerms = antiAffinityTerms,
            PodMatchesOwnAffinity = MatchesAll(affinityTerms, pod.Namespace, pod),
        };
        var hasOwnTerms = state.AffinityTerms.Count > 0 || state.AntiAffinityTerms.Count > 0;
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (!hasOwnTerms && cluster.PodsWithAffinity[n] == 0) continue;
            var pods = cluster.Pods[n];
            for (var p = 0; p < pods.Count; p++)
            {
                var existing = pods[p].Pod;
                // Existing pods' required anti-affinity terms that select the incoming pod.
                if (existing.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { } theirs)
                {
                    for (var t = 0; t < theirs.Count; t++)
                        if (Matching.TermSelects(theirs[t], existing.Namespace, pod)) Count(state.ExistingAntiAffinity, cluster, n, theirs[t].TopologyKey);
                }
                if (state.AffinityTerms.Count > 0 && MatchesAll(state.AffinityTerms, pod.Namespace, existing))
                {
                    for (var t = 0; t < state.AffinityTerms.Count; t++) Count(state.Affinity, cluster, n, state.AffinityTerms[t].TopologyKey);
                }
                for (var t = 0; t < state.AntiAffinityTerms.Count; t++)
                    if (Matching.TermSelects(state.AntiAffinityTerms[t], pod.Namespace, existing)) Count(state.AntiAffinity, cluster, n, state.AntiAffinityTerms[t].TopologyKey);
            }
        }
        context.SetState(this, state);
    }

    public string? Filter(SchedulingContext context, int node)
    {
        var state = context.StateOf<State>(this);
        if (state is null) return null;
        var cluster = context.Cluster;
        foreach (var ((key, value), _) in state.ExistingAntiAffinity)
        {
            if (Matching.TryTopologyValue(cluster, node, key, out var v) && v == value) return ExistingAntiAffinityReason;
        }
        if (state.AffinityTerms.Count > 0)
        {
            var podsExist = true;
            for (var t = 0; t < state.AffinityTerms.Count; t++)
            {
                var key = state.AffinityTerms[t].TopologyKey;
                // Every topology key must exist on the node.
                if (!Matching.TryTopologyValue(cluster, node, key, out var value)) return AffinityReason;
                if (state.Affinity.GetValueOrDefault((key, value)) <= 0) podsExist = false;
            }
            // The first pod of a group with affinity to itself may go anywhere its keys exist.
            if (!podsExist && !(state.Affinity.Count == 0 && state.PodMatchesOwnAffinity)) return AffinityReason;
        }
        for (var t = 0; t < state.AntiAffinityTerms.Count; t++)
        {
            var key = state.AntiAffinityTerms[t].TopologyKey;
            if (Matching.TryTopologyValue(cluster, node, key, out var value) && state.AntiAffinity.GetValueOrDefault((key, value)) > 0) return AntiAffinityReason;
        }
        return null;
    }

    /// <summary>interpodaffinity/filtering.go: unmet affinity is UnschedulableAndUnresolvable; either anti-affinity is not.</summary>
    public bool IsUnresolvable(string reason) => reason == AffinityReason;

    private static void Count(Dictionary<(string, string), int> counts, ClusterState cluster, int node, string key)
    {
        if (Matching.TryTopologyValue(cluster, node, key, out var value)) counts[(key, value)] = counts.GetValueOrDefault((key, value)) + 1;
    }

    /// <summary>podMatchesAllAffinityTerms: false for no terms.</summary>
    internal static bool MatchesAll(IReadOnlyList<PodAffinityTerm> terms, string ownerNamespace, PodSpec target)
    {
        if (terms.Count == 0) return false;
        for (var t = 0; t < terms.Count; t++)
            if (!Matching.TermSelects(terms[t], ownerNamespace, target)) return false;
        return true;
    }
}
