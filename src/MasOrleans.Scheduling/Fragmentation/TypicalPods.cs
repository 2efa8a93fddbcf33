using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Fragmentation;

/// <summary>The FGD paper's typical pods (GetTypicalPods in the simulator's pkg/utils/frag.go).</summary>
public static class TypicalPods
{
    /// <summary>The paper's experiments use 95% coverage with CPU-only pods included.</summary>
    public const double PaperCoveragePercent = 95;

    /// <summary>
    /// Groups pods by shape, sorts shapes by count (most frequent first; ties by the larger shape, as the
    /// simulator's reverse sort does), keeps shapes until their cumulative count reaches the coverage,
    /// then renormalizes the kept frequencies to sum to 1.
    /// </summary>
    public static IReadOnlyList<TypicalPod> From(IEnumerable<PodSpec> pods, double coveragePercent = PaperCoveragePercent, bool includeCpuOnly = true)
    {
        if (coveragePercent is <= 0 or > 100) throw new ArgumentOutOfRangeException(nameof(coveragePercent), "coverage must be in (0, 100]");
        var counts = new Dictionary<PodShape, int>();
        var total = 0;
        foreach (var pod in pods)
        {
            var shape = PodShape.Of(pod);
            if (!includeCpuOnly && !shape.NeedsGpu) continue;
            counts[shape] = counts.GetValueOrDefault(shape) + 1;
            total++;
        }
        if (total == 0) return [];
        var sorted = counts.OrderByDescending(kv => kv.Value).ThenByDescending(kv => kv.Key, ShapeOrder.Instance).ToList();
        var expected = coveragePercent * total / 100.0;
        var kept = new List<KeyValuePair<PodShape, int>>();
        double cumulative = 0;
        foreach (var kv in sorted)
        {
            if (cumulative >= expected) break;
            kept.Add(kv);
            cumulative += kv.Value;
        }
        return kept.Select(kv => new TypicalPod(kv.Key, kv.Value / cumulative)).ToList();
    }

    /// <summary>The simulator's PodResource.Less: cpu, then per-GPU milli, then count, then model.</summary>
    private sealed class ShapeOrder : IComparer<PodShape>
    {
        public static readonly ShapeOrder Instance = new();
        public int Compare(PodShape a, PodShape b)
        {
            var c = a.CpuMilli.CompareTo(b.CpuMilli);
            if (c == 0) c = a.MilliPerGpu.CompareTo(b.MilliPerGpu);
            if (c == 0) c = a.GpuCount.CompareTo(b.GpuCount);
            return c != 0 ? c : string.CompareOrdinal(a.GpuModels, b.GpuModels);
        }
    }
}
