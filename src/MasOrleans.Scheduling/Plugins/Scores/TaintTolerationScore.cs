using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's TaintToleration score: counts the node's PreferNoSchedule taints that the pod's
/// tolerations (those with an empty or PreferNoSchedule effect) do not tolerate; normalized reversed,
/// so the fewest intolerable taints scores 100 and, when no node has any, every node scores 100.
/// </summary>
public sealed class TaintTolerationScore : IScorePlugin
{
    public string Name => "TaintToleration";

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        var cluster = context.Cluster;
        if (cluster.NodesWithPreferNoScheduleTaints > 0)
        {
            foreach (var node in feasibleNodes)
                if (cluster.HasPreferNoScheduleTaints(node)) return;
        }
        // No PreferNoSchedule taint on any feasible node: reversed normalization gives every node 100.
        context.Skip(this, NodeScore.MaxNodeScore);
    }

    public long Score(SchedulingContext context, int node)
    {
        if (!context.Cluster.HasPreferNoScheduleTaints(node)) return 0;
        var taints = context.Cluster.Spec(node).Taints;
        var tolerations = context.Pod.Tolerations;
        long intolerable = 0;
        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i];
            if (taint.Effect != TaintEffects.PreferNoSchedule) continue;
            if (!ToleratedForScoring(tolerations, taint)) intolerable++;
        }
        return intolerable;
    }

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores) =>
        ScoreNormalization.Default(scores, reverse: true);

    /// <summary>getAllTolerationPreferNoSchedule: only tolerations with no effect or PreferNoSchedule count.</summary>
    private static bool ToleratedForScoring(IReadOnlyList<Toleration>? tolerations, Taint taint)
    {
        if (tolerations is null) return false;
        for (var i = 0; i < tolerations.Count; i++)
        {
            var t = tolerations[i];
            if ((string.IsNullOrEmpty(t.Effect) || t.Effect == TaintEffects.PreferNoSchedule) && t.Tolerates(taint)) return true;
        }
        return false;
    }
}
