using System.Globalization;
using MasOrleans.Scheduling.Fragmentation;

namespace MasOrleans.Learning.Search;

/// <summary>
/// What kind of workload the typical pods describe, as the shares the resampled variants steer: CPU-only of all typical
/// pods, and of the GPU ones shared, multi-GPU and constrained to a GPU model (each by frequency). From the typical pods,
/// not the trace, because that is what a policy is given: in replay and in a live silo alike.
/// </summary>
public readonly record struct TypicalMix(double Shared, double MultiGpu, double CpuOnly, double Constrained)
{
    public static TypicalMix Of(IReadOnlyList<TypicalPod> typical)
    {
        double all = 0, gpu = 0, shared = 0, multi = 0, constrained = 0;
        foreach (var t in typical)
        {
            all += t.Probability;
            if (!t.Shape.NeedsGpu) continue;
            gpu += t.Probability;
            if (t.Shape.IsShared) shared += t.Probability;
            if (t.Shape.GpuCount > 1) multi += t.Probability;
            if (t.Shape.GpuModels.Length > 0) constrained += t.Probability;
        }
        return gpu <= 0
            ? new TypicalMix(0, 0, all > 0 ? 1 : 0, 0)
            : new TypicalMix(shared / gpu, multi / gpu, (all - gpu) / all, constrained / gpu);
    }

    public double[] ToArray() => [Shared, MultiGpu, CpuOnly, Constrained];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"shared {Shared:P1}, multi-GPU {MultiGpu:P1}, CPU-only {CpuOnly:P1}, constrained {Constrained:P1}");
}

/// <summary>A set of `fgd-learned` weights: tie weights and typical-pod weights, named by the search that found them.</summary>
public sealed record TieWeightSet(string Name, TieWeights Ties, TypicalPodWeights Typical);

/// <summary>A training workload's mix of typical pods, and the weight set that did best on it.</summary>
public sealed record TieExpert(string TrainedOn, TypicalMix Mix, TieWeightSet Weights)
{
    public TieWeights Ties => Weights.Ties;
    public TypicalPodWeights Typical => Weights.Typical;
}

/// <summary>
/// `fgd-adaptive`: `fgd-learned` with the weights that did best on the training workload nearest to the workload at hand.
/// What suits the default trace loses on workloads with more sharing pods, and what suits those leaves half the default
/// trace's gain (docs/learning.md, session 25), so the policy reads its typical pods' <see cref="TypicalMix"/> and takes
/// the expert whose training workload's mix is nearest, each share's difference divided by the experts' span on it.
/// </summary>
public static class AdaptiveFgd
{
    /// <summary>fgd-learned's own: run 3, the default trace and the five training variants.</summary>
    public static readonly TieWeightSet Learned = new("fgd-learned", TieWeights.Learned, TypicalPodWeights.Tuned);

    /// <summary>Run 7: the default trace and the five near-default variants, from run 5's best.</summary>
    public static readonly TieWeightSet NearDefault = new("near-default",
        new TieWeights([0.78, 3.945, 1.906, -0.49, -0.677, -0.308, 2.818, 0.481, 0, -1.69],
            [5.216, 0.737, 0.319, -2.129, 0.828, 0.395, -1.662, 0.437, 0.637, 2.487]),
        new TypicalPodWeights { Shared = 1.515, SharePower = -2.844, CpuOnly = 0.517, MultiGpu = 0.899 });

    /// <summary>Run 5: the default trace alone (its crossings, too small to move a decision, left out).</summary>
    public static readonly TieWeightSet DefaultTrace = new("default-trace",
        new TieWeights([0.64, 4.611, 1.206, -0.55, -0.65, -0.516, 3.293, 0.416, 0, -2.115],
            [4.365, 1.196, 0.479, -2.413, 0.388, 0.827, -1.34, 0.528, 0.514, 2.199]),
        new TypicalPodWeights { Shared = 1.289, SharePower = -3.524, CpuOnly = 0.673, MultiGpu = 1.232 });

    /// <summary>Run 8: the default trace, the five training and the five near-default variants together.</summary>
    public static readonly TieWeightSet Eleven = new("eleven-workloads",
        new TieWeights([0.341, 3.834, 0.649, -1.039, 0.36, -0.274, 4.234, 1.591, 0, -3.139],
            [4.779, 0.605, 1.06, -1.593, 0.114, 0.716, -1.859, 0.522, 0.934, 2.275]),
        new TypicalPodWeights { Shared = 1.648, SharePower = -1.745, CpuOnly = 0.806, MultiGpu = 0.879 });

    public static readonly IReadOnlyList<TieWeightSet> WeightSets = [Learned, NearDefault, DefaultTrace, Eleven];

    /// <summary>
    /// Session 36: share54 (gpushare40's near-family variant) with the default trace, from run 8's set (`mas tune-ties
    /// --variants share54 --seed 1000..1002 --generations 6 --typical --worst-weight 0`, docs/learning/adaptive-wide/search.sh).
    /// </summary>
    public static readonly TieWeightSet Share54 = new("share54",
        new TieWeights([-0.147, 3.885, 0.989, -0.761, 0.241, -0.575, 4.486, 1.544, -0.191, -3.793],
            [4.147, 1.015, 1.437, -1.714, 0.292, 0.937, -1.823, -0.309, 0.362, 2.207]),
        new TypicalPodWeights { Shared = 1.225, SharePower = -1.714, CpuOnly = 0.661, MultiGpu = 1.028 });

    /// <summary>
    /// Session 36: cpu22 (cpu20's near-family variant) with the default trace, from near-default's set with CPU-only pods'
    /// ties crossing 2 FGD points, crossings searched too (docs/learning/adaptive-wide/search-cpu22.sh).
    /// </summary>
    public static readonly TieWeightSet Cpu22 = new("cpu22",
        new TieWeights([0.146, 4.607, 1.567, -0.041, -0.609, -0.35, 2.778, 1.077, -0.099, -1.532],
            [5.671, 0.015, 0.326, -2.376, 1.32, 0.305, -1.51, 0.298, 0.011, 2.705]) { CpuCross = 1.8, GpuCross = 0.162 },
        new TypicalPodWeights { Shared = 1.776, SharePower = -2.805, CpuOnly = 0.389, MultiGpu = 1.282 });

    /// <summary>What <see cref="WideExperts"/>' added experts chose from.</summary>
    public static readonly IReadOnlyList<TieWeightSet> WideWeightSets = [.. WeightSets, Share54, Cpu22];

    /// <summary>
    /// Every training workload (the default trace, the training and the near-default variants) with the weight set of the
    /// four whose mean gain over fgd on it was highest at training seeds 1010..1014, which no search used
    /// (docs/learning/adaptive/assign-*.json; a test reads them). All values rounded to three decimals; a CPU-only pod's
    /// tightest-fit, always 0, weighs 0. Mixes: each workload's typical pods (a test recomputes them).
    /// </summary>
    public static readonly IReadOnlyList<TieExpert> Experts =
    [
        new("default", new TypicalMix(0.4319, 0, 0.1360, 0), DefaultTrace),
        new("share47", new TypicalMix(0.4558, 0.0054, 0.13635, 0), Eleven),
        new("multi2", new TypicalMix(0.4273, 0.0106, 0.1347, 0), DefaultTrace),
        new("cpu11", new TypicalMix(0.4319, 0, 0.1122, 0), DefaultTrace),
        new("cpu16", new TypicalMix(0.4319, 0, 0.1631, 0), DefaultTrace),
        new("spec5", new TypicalMix(0.4356, 0.0054, 0.1381, 0.0175), NearDefault),
        new("share65", new TypicalMix(0.6372, 0.0078, 0.1395, 0), Eleven),
        new("multi6", new TypicalMix(0.4100, 0.04655, 0.1300, 0), NearDefault),
        new("cpu30", new TypicalMix(0.4316, 0, 0.3090, 0), Learned),
        new("spec25", new TypicalMix(0.4320, 0.0054, 0.13954, 0.2169), NearDefault),
        new("mix-share60-multi5", new TypicalMix(0.5843, 0.0514, 0.1346, 0), Eleven),
    ];

    /// <summary>
    /// `fgd-adaptive-wide` (session 36): <see cref="Experts"/> as they are, and one expert for each near-family variant
    /// (near the paper families the experts above served worst, at percentages no judged workload uses), with the weight
    /// set of <see cref="WideWeightSets"/> whose mean gain over fgd on it was highest at seeds 1010..1014
    /// (docs/learning/adaptive-wide/assign-*.json; a test reads them). A workload nearer to none of the added ones keeps
    /// fgd-adaptive's weights, but the added mixes widen the spans the distance divides by.
    /// </summary>
    public static readonly IReadOnlyList<TieExpert> WideExperts =
    [
        .. Experts,
        new("share54", new TypicalMix(0.5224, 0.00675, 0.13945, 0), Share54),
        new("spec8", new TypicalMix(0.4371, 0.0054, 0.13948, 0.04738), Eleven),
        new("cpu3", new TypicalMix(0.4300, 0, 0.02756, 0), DefaultTrace),
        new("cpu22", new TypicalMix(0.42926, 0, 0.2240, 0), Cpu22),
    ];

    /// <summary>The expert whose mix is nearest to <paramref name="mix"/> (the first of equals).</summary>
    public static TieExpert Nearest(TypicalMix mix, IReadOnlyList<TieExpert>? experts = null)
    {
        experts ??= Experts;
        if (experts.Count == 0) throw new ArgumentException("no experts to choose from");
        var x = mix.ToArray();
        var mixes = experts.Select(e => e.Mix.ToArray()).ToList();
        var spans = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var span = mixes.Max(m => m[i]) - mixes.Min(m => m[i]);
            spans[i] = span > 0 ? span : 1;
        }
        var (best, bestDistance) = (0, double.PositiveInfinity);
        for (var e = 0; e < mixes.Count; e++)
        {
            var distance = 0.0;
            for (var i = 0; i < x.Length; i++) distance += Math.Pow((x[i] - mixes[e][i]) / spans[i], 2);
            // Strictly nearer: the first of equals stays.
            if (distance < bestDistance) (best, bestDistance) = (e, distance);
        }
        return experts[best];
    }
}
