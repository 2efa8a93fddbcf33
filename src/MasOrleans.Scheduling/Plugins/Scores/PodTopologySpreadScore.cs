using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's PodTopologySpread score for ScheduleAnyway constraints (scoring.go): per constraint,
/// matching pods in the node's domain * ln(domains among feasible nodes + 2) + (maxSkew - 1), summed and
/// rounded; normalized as 100 * (max + min - s) / max, nodes missing a key scoring 0. A pod without constraints of
/// its own gets the system defaults when a workload owns it (<see cref="TopologySpreadCounts.SystemDefaults"/>); then
/// no key is required, and a node adds only the constraints whose key it has. Other pods skip it.
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
        var systemDefaults = TopologySpreadCounts.SystemDefaults(context.Pod);
        var constraints = systemDefaults ?? TopologySpreadCounts.Select(context.Pod, TopologySpreadCounts.ScheduleAnyway);
        if (constraints is null) { context.Skip(this); return; }
        var cluster = context.Cluster;
        var counts = new TopologySpreadCounts(cluster, context.Pod, constraints, requireAllKeys: systemDefaults is null);
        // Domain sizes count only feasible nodes not ignored; the hostname's is their number (initPreScoreState).
        var weights = new double[constraints.Count];
        var scored = 0;
        foreach (var node in feasibleNodes)
            if (!counts.IsIgnored(cluster, node)) scored++;
        for (var i = 0; i < constraints.Count; i++)
        {
            var values = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in feasibleNodes)
            {
                if (counts.IsIgnored(cluster, node)) continue;
                if (!Matching.TryTopologyValue(cluster, node, constraints[i].TopologyKey, out var value)) value = "";
                values.Add(value);
            }
            weights[i] = Math.Log((constraints[i].TopologyKey == Matching.HostnameLabel ? scored : values.Count) + 2);
        }
        context.SetState(this, new State(counts, weights));
    }

    public long Score(SchedulingContext context, int node)
    {
        var state = context.StateOf<State>(this);
        if (state is null) return 0;
        if (state.Counts.IsIgnored(context.Cluster, node)) return IgnoredNode;
        var constraints = state.Counts.Constraints;
        var score = 0.0;
        for (var i = 0; i < constraints.Count; i++)
        {
            // Only the constraints whose key the node has (all of them unless the system defaults apply).
            if (!Matching.TryTopologyValue(context.Cluster, node, constraints[i].TopologyKey, out var value)) continue;
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
