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

/// <summary>`fgd-learned`'s weights as tuned for one training workload, and that workload's mix of typical pods.</summary>
public sealed record TieExpert(string TrainedOn, TypicalMix Mix, TieWeights Ties, TypicalPodWeights Typical);

/// <summary>
/// `fgd-adaptive`: `fgd-learned` with the weights of the training workload nearest to the workload at hand. The weights that
/// suit the default trace lose on workloads with more sharing pods, and those that suit the variants leave half the
/// default trace's gain (docs/learning.md, session 25), so the policy reads its typical pods' <see cref="TypicalMix"/>
/// and takes the expert whose training workload's mix is nearest, each share's difference divided by how far apart the
/// training workloads lie on it.
/// </summary>
public static class AdaptiveFgd
{
    /// <summary>
    /// The weights of one search on the default trace and the near-default variants (training seeds 1000..1002, started
    /// from a search on the default trace alone; docs/learning.md, session 25), rounded to three decimals; a CPU-only pod's
    /// tightest-fit, always 0, weighs 0.
    /// </summary>
    public static readonly TieWeights NearDefaultTies = new(
        [0.78, 3.945, 1.906, -0.49, -0.677, -0.308, 2.818, 0.481, 0, -1.69],
        [5.216, 0.737, 0.319, -2.129, 0.828, 0.395, -1.662, 0.437, 0.637, 2.487]);

    /// <summary>The typical-pod weights of the same search.</summary>
    public static readonly TypicalPodWeights NearDefaultTypical = new()
    {
        Shared = 1.515, SharePower = -2.844, CpuOnly = 0.517, MultiGpu = 0.899,
    };

    /// <summary>
    /// The default trace and the near-default variants with <see cref="NearDefaultTies"/>, the five training variants with
    /// `fgd-learned`'s (one search over them and the default trace). Mixes: each workload's typical pods (a test recomputes them).
    /// </summary>
    public static readonly IReadOnlyList<TieExpert> Experts =
    [
        new("default", new TypicalMix(0.4319, 0, 0.1360, 0), NearDefaultTies, NearDefaultTypical),
        new("share47", new TypicalMix(0.4558, 0.0054, 0.13635, 0), NearDefaultTies, NearDefaultTypical),
        new("multi2", new TypicalMix(0.4273, 0.0106, 0.1347, 0), NearDefaultTies, NearDefaultTypical),
        new("cpu11", new TypicalMix(0.4319, 0, 0.1122, 0), NearDefaultTies, NearDefaultTypical),
        new("cpu16", new TypicalMix(0.4319, 0, 0.1631, 0), NearDefaultTies, NearDefaultTypical),
        new("spec5", new TypicalMix(0.4356, 0.0054, 0.1381, 0.0175), NearDefaultTies, NearDefaultTypical),
        new("share65", new TypicalMix(0.6372, 0.0078, 0.1395, 0), TieWeights.Learned, TypicalPodWeights.Tuned),
        new("multi6", new TypicalMix(0.4100, 0.04655, 0.1300, 0), TieWeights.Learned, TypicalPodWeights.Tuned),
        new("cpu30", new TypicalMix(0.4316, 0, 0.3090, 0), TieWeights.Learned, TypicalPodWeights.Tuned),
        new("spec25", new TypicalMix(0.4320, 0.0054, 0.13954, 0.2169), TieWeights.Learned, TypicalPodWeights.Tuned),
        new("mix-share60-multi5", new TypicalMix(0.5843, 0.0514, 0.1346, 0), TieWeights.Learned, TypicalPodWeights.Tuned),
    ];

    /// <summary>The expert whose mix is nearest to <paramref name="mix"/> (the first of equals).</summary>
    public static TieExpert Nearest(TypicalMix mix, IReadOnlyList<TieExpert>? experts = null)
    {
        experts ??= Experts;
        if (experts.Count == 0) throw new ArgumentException("no experts to choose from");
        var x = mix.ToArray();
        var spans = Enumerable.Range(0, x.Length)
            .Select(i => experts.Max(e => e.Mix.ToArray()[i]) - experts.Min(e => e.Mix.ToArray()[i]))
            .Select(span => span > 0 ? span : 1)
            .ToArray();
        double Distance(TieExpert e)
        {
            var m = e.Mix.ToArray();
            var sum = 0.0;
            for (var i = 0; i < x.Length; i++) sum += Math.Pow((x[i] - m[i]) / spans[i], 2);
            return sum;
        }
        var best = experts[0];
        foreach (var e in experts.Skip(1))
            if (Distance(e) < Distance(best)) best = e;
        return best;
    }
}
