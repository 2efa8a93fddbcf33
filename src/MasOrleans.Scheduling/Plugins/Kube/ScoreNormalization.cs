using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Kube;

/// <summary>kube-scheduler's normalizations, integer arithmetic as in the Go source.</summary>
public static class ScoreNormalization
{
    /// <summary>helper.DefaultNormalizeScore: scales [0, max] to [0, 100]; reverse subtracts from 100. All-zero reversed gives 100.</summary>
    public static void Default(Span<long> scores, bool reverse)
    {
        long max = 0;
        foreach (var s in scores) if (s > max) max = s;
        if (max == 0)
        {
            if (reverse) scores.Fill(NodeScore.MaxNodeScore);
            return;
        }
        for (var i = 0; i < scores.Length; i++)
        {
            var score = NodeScore.MaxNodeScore * scores[i] / max;
            scores[i] = reverse ? NodeScore.MaxNodeScore - score : score;
        }
    }

    /// <summary>
    /// Maps raw values to 0..100 so that the exact optimum (lowest when <paramref name="lowerIsBetter"/>) gets 100
    /// and every other node at most 99, linearly by distance from the worst. Keeps a seed strategy's argmin/argmax
    /// exact while still grading the rest for combination with other plugins.
    /// </summary>
    public static void ExactBest(Span<long> values, bool lowerIsBetter)
    {
        if (values.IsEmpty) return;
        long min = long.MaxValue, max = long.MinValue;
        foreach (var v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        var best = lowerIsBetter ? min : max;
        var range = max - min;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] == best) { values[i] = NodeScore.MaxNodeScore; continue; }
            var distanceFromWorst = lowerIsBetter ? max - values[i] : values[i] - min;
            values[i] = (long)((NodeScore.MaxNodeScore - 1) * ((double)distanceFromWorst / range));
        }
    }
}
