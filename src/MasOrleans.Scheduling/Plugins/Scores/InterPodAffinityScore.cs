using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's InterPodAffinity score (scoring.go): per topology domain, + weight for each existing pod
/// matching the pod's preferred affinity, - weight for its preferred anti-affinity, + hardPodAffinityWeight
/// (default 1) for existing pods whose required affinity selects the pod, +/- their preferred terms' weights.
/// A node sums its domains; normalized as 100 * (s - min) / (max - min) over the feasible nodes' scores (v1.21+).
/// </summary>
public sealed class InterPodAffinityScore(int hardPodAffinityWeight = 1) : IScorePlugin
{
    public string Name => "InterPodAffinity";

    private sealed class State
    {
        public Dictionary<string, Dictionary<string, long>> TopologyScore { get; } = new(StringComparer.Ordinal);
    }

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        var cluster = context.Cluster;
        var pod = context.Pod;
        var hasConstraints = ClusterState.HasPodAffinity(pod);
        if (!hasConstraints && cluster.PodsWithAffinityTotal == 0) { context.Skip(this); return; }
        var preferred = pod.Affinity?.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution;
        var preferredAnti = pod.Affinity?.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution;
        var state = new State();
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            // Unless the pod has affinity terms, only pods with affinity can contribute.
            if (!hasConstraints && cluster.PodsWithAffinity[n] == 0) continue;
            var pods = cluster.Pods[n];
            for (var p = 0; p < pods.Count; p++)
            {
                var existing = pods[p].Pod;
                if (!hasConstraints && !ClusterState.HasPodAffinity(existing)) continue;
                Process(state, cluster, n, preferred, pod.Namespace, existing, 1);
                Process(state, cluster, n, preferredAnti, pod.Namespace, existing, -1);
                if (existing.Affinity?.PodAffinity is { } theirAffinity)
                {
                    if (hardPodAffinityWeight > 0 && theirAffinity.RequiredDuringSchedulingIgnoredDuringExecution is { } required)
                    {
                        for (var t = 0; t < required.Count; t++)
                            Add(state, cluster, n, required[t], existing.Namespace, pod, hardPodAffinityWeight);
                    }
                    Process(state, cluster, n, theirAffinity.PreferredDuringSchedulingIgnoredDuringExecution, existing.Namespace, pod, 1);
                }
                Process(state, cluster, n, existing.Affinity?.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution, existing.Namespace, pod, -1);
            }
        }
        if (state.TopologyScore.Count == 0) { context.Skip(this); return; }
        context.SetState(this, state);
    }

    public long Score(SchedulingContext context, int node)
    {
        var state = context.StateOf<State>(this);
        if (state is null) return 0;
        long score = 0;
        foreach (var (key, values) in state.TopologyScore)
        {
            if (Matching.TryTopologyValue(context.Cluster, node, key, out var value)) score += values.GetValueOrDefault(value);
        }
        return score;
    }

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores)
    {
        if (context.StateOf<State>(this) is null) return;
        // v1.21+ (PR #98096, scoring.go): min and max start at MaxInt64 and MinInt64, so the lowest node scores 0
        // even when every raw score is positive (or the highest 100 when every one is negative).
        long max = long.MinValue, min = long.MaxValue;
        foreach (var s in scores)
        {
            if (s > max) max = s;
            if (s < min) min = s;
        }
        var diff = max - min;
        for (var i = 0; i < scores.Length; i++)
            scores[i] = diff > 0 ? (long)(NodeScore.MaxNodeScore * ((double)(scores[i] - min) / diff)) : 0;
    }

    private static void Process(State state, ClusterState cluster, int node, IReadOnlyList<WeightedPodAffinityTerm>? terms,
        string ownerNamespace, PodSpec target, int multiplier)
    {
        if (terms is null) return;
        for (var t = 0; t < terms.Count; t++) Add(state, cluster, node, terms[t].PodAffinityTerm, ownerNamespace, target, terms[t].Weight * multiplier);
    }

    private static void Add(State state, ClusterState cluster, int node, PodAffinityTerm term, string ownerNamespace, PodSpec target, long weight)
    {
        if (!Matching.TermSelects(term, ownerNamespace, target)) return;
        // processTerm reads the existing pod's node labels; the hostname fallback keeps per-node terms working.
        if (!Matching.TryTopologyValue(cluster, node, term.TopologyKey, out var value)) return;
        if (!state.TopologyScore.TryGetValue(term.TopologyKey, out var values))
            state.TopologyScore[term.TopologyKey] = values = new Dictionary<string, long>(StringComparer.Ordinal);
        values[value] = values.GetValueOrDefault(value) + weight;
    }
}
