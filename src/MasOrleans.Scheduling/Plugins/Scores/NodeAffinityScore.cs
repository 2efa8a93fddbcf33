using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's NodeAffinity score: the sum of the weights of the preferred terms the node matches,
/// normalized to 0..100 by the best node (DefaultNormalizeScore). Pods without preferred terms skip it.
/// </summary>
public sealed class NodeAffinityScore : IScorePlugin
{
    public string Name => "NodeAffinity";

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        if (context.Pod.Affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution is not { Count: > 0 }) context.Skip(this);
    }

    public long Score(SchedulingContext context, int node)
    {
        var preferred = context.Pod.Affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution;
        if (preferred is null) return 0;
        var spec = context.Cluster.Spec(node);
        long sum = 0;
        for (var i = 0; i < preferred.Count; i++)
        {
            // Weight-0 terms are ignored, as in nodeaffinity.NewPreferredSchedulingTerms.
            if (preferred[i].Weight != 0 && Matching.Selects(preferred[i].Preference, spec)) sum += preferred[i].Weight;
        }
        return sum;
    }

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores) =>
        ScoreNormalization.Default(scores, reverse: false);
}
