using System.Globalization;

namespace MasOrleans.Cli.Replay;

/// <summary>The best policy for each metric of a replay, with the direction that counts as better.</summary>
internal static class BestPolicies
{
    /// <summary>
    /// A metric, compared at <paramref name="Digits"/> decimals. A <paramref name="Count"/> (pods) is a mean over seeds
    /// compared at two decimals too, not at whole pods (rounded, means of 1.4 and 0.6 would tie), printed as <see cref="FormatCount"/> says.
    /// </summary>
    public sealed record Metric(string Name, bool HigherIsBetter, Func<PolicyMean, double?> Value, int Digits = 2, bool Count = false);

    /// <summary>Which policies are best, at the precision the report prints (ties at that precision are all named).</summary>
    public sealed record Best(Metric Metric, IReadOnlyList<string> Policies, double Value, string? RunnerUp, double? RunnerUpValue);

    public static readonly IReadOnlyList<Metric> Paper =
    [
        new("GPU allocation @100% demand (%)", true, m => m.AllocAt100),
        new("GPU allocation @130% demand (%)", true, m => m.AllocAt130),
        new("fragmented GPU @80% demand (%)", false, m => m.FragmentationAt80),
        new("CPU allocation @130% demand (%)", true, m => m.CpuAllocAt130),
        new("memory allocation @130% demand (%)", true, m => m.MemAllocAt130),
        new("failed pods", false, m => m.FailedPods, Count: true),
        new("decisions per second", true, m => m.DecisionsPerSecond, 0),
    ];

    public static readonly IReadOnlyList<Metric> Timed =
    [
        new("placed pods", true, m => m.PlacedPods, Count: true),
        new("never placed", false, m => m.FailedPods, Count: true),
        new("mean wait (s)", false, m => m.MeanWaitSeconds, 1),
        new("p95 wait (s)", false, m => m.P95WaitSeconds, 1),
        new("makespan (h)", false, m => m.MakespanSeconds / 3600, 1),
        new("mean GPU allocation (%)", true, m => m.MeanGpuAllocPercent),
        new("decisions per second", true, m => m.DecisionsPerSecond, 0),
    ];

    /// <summary>
    /// A count as report.md prints it: a whole number of pods without decimals (22736, as with one seed, not 22736.00); a
    /// mean over seeds that is not whole keeps two (1.50 for 1 and 2 failed pods), since rounded it would read as a count.
    /// </summary>
    public static string FormatCount(double? value) => value switch
    {
        null => "-",
        { } whole when whole == Math.Floor(whole) => whole.ToString("F0", CultureInfo.InvariantCulture),
        { } mean => mean.ToString("F2", CultureInfo.InvariantCulture),
    };

    public static IReadOnlyList<Best> Of(IReadOnlyList<PolicyMean> means, IReadOnlyList<Metric> metrics)
    {
        var result = new List<Best>();
        foreach (var metric in metrics)
        {
            var scored = means.Select(m => (m.Policy, Value: metric.Value(m))).Where(x => x.Value is { } v && double.IsFinite(v))
                .Select(x => (x.Policy, Value: Math.Round(x.Value!.Value, metric.Digits, MidpointRounding.AwayFromZero)))
                .OrderBy(x => metric.HigherIsBetter ? -x.Value : x.Value).ToList();
            if (scored.Count == 0) continue;
            var top = scored[0].Value;
            var winners = scored.Where(x => x.Value == top).Select(x => x.Policy).ToList();
            var next = scored.FirstOrDefault(x => x.Value != top);
            result.Add(new Best(metric, winners, top, next.Policy, next.Policy is null ? null : next.Value));
        }
        return result;
    }
}
