using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's PodTopologySpread score for ScheduleAnyway constraints (scoring.go): per constraint,
/// matching pods in the node's domain * ln(domains among feasible nodes + 2) + (maxSkew - 1), summed and
/// rounded; normalized as 100 * (max + min - s) / max, nodes missing a key scoring 0. Pods without soft
/// constraints skip it (we have no owner-derived default constraints: pods carry no owner references).
/// </summary>
public sealed class PodTopologySpreadScore : IScorePlugin
{
    public string Name => "PodTopologySpread";

    private sealed class State(TopologySpreadCounts counts, double[] weights)
    {
        public TopologySpreadCounts Counts { get; } = counts;
        public double[] Weights { get; } = weights;
    }

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        var constraints = TopologySpreadCounts.Select(context.Pod, TopologySpreadCounts.ScheduleAnyway);
        if (constraints is null) { context.Skip(this); return; }
        var cluster = context.Cluster;
        var counts = new TopologySpreadCounts(cluster, context.Pod, constraints);
        // Domain sizes count only feasible nodes that carry every key.
        var weights = new double[constraints.Count];
        for (var i = 0; i < constraints.Count; i++)
        {
            var values = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in feasibleNodes)
            {
                if (!counts.HasAllKeys(cluster, node)) continue;
                Matching.TryTopologyValue(cluster, node, constraints[i].TopologyKey, out var value);
                values.Add(value);
            }
            weights[i] = Math.Log(values.Count + 2);
        }
        context.SetState(this, new State(counts, weights));
    }

    public long Score(SchedulingContext context, int node)
    {
        var state = context.StateOf<State>(this);
        if (state is null) return 0;
        if (!state.Counts.HasAllKeys(context.Cluster, node)) return IgnoredNode;
        var constraints = state.Counts.Constraints;
        var score = 0.0;
        for (var i = 0; i < constraints.Count; i++)
        {
            Matching.TryTopologyValue(context.Cluster, node, constraints[i].TopologyKey, out var value);
            var count = state.Counts.Domains[i].GetValueOrDefault(value);
            score += count * state.Weights[i] + (constraints[i].MaxSkew - 1);
        }
        return (long)Math.Round(score, MidpointRounding.AwayFromZero);
    }

    /// <summary>Marks nodes missing a topology key until normalization sets them to 0.</summary>
    private const long IgnoredNode = -1;

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores)
    {
        if (context.StateOf<State>(this) is null) return;
        long min = long.MaxValue, max = 0;
        foreach (var s in scores)
        {
            if (s == IgnoredNode) continue;
            if (s < min) min = s;
            if (s > max) max = s;
        }
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] == IgnoredNode) scores[i] = 0;
            else if (max == 0) scores[i] = NodeScore.MaxNodeScore;
            else scores[i] = NodeScore.MaxNodeScore * (max + min - scores[i]) / max;
        }
    }
}
