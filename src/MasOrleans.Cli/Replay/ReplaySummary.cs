using System.Text.Json;
using System.Text.Json.Serialization;
using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Cli.Replay;

/// <summary>Per-policy means across seeds (null where no run measured the metric).</summary>
internal sealed record PolicyMean
{
    public required string Policy { get; init; }
    public required int Seeds { get; init; }
    public double? AllocAt100 { get; init; }
    public double? AllocAt130 { get; init; }
    public double? CpuAllocAt130 { get; init; }
    public double? MemAllocAt130 { get; init; }
    public double? FragmentationAt80 { get; init; }
    public double FailedPods { get; init; }
    public double PlacedPods { get; init; }
    public double DecisionsPerSecond { get; init; }
    public double WallSeconds { get; init; }
    public double? MeanWaitSeconds { get; init; }
    public double? P95WaitSeconds { get; init; }
    public double? MakespanSeconds { get; init; }
    public double? MeanGpuAllocPercent { get; init; }
    public double? MeanCpuAllocPercent { get; init; }
    public double? MaxQueueLength { get; init; }
    public double? PublishedAllocAt130 { get; init; }
    public double? PublishedAllocAt100 { get; init; }
    public double? PublishedFragmentationAt80 { get; init; }
}

/// <summary>What summary.json holds: the command, the tool's version and the inputs' hashes, the inputs, one entry per policy and seed, and per-policy means.</summary>
internal sealed record ReplaySummary
{
    public required string Command { get; init; }
    public required RunProvenance Provenance { get; init; }
    public required string Nodes { get; init; }
    public required string Pods { get; init; }
    public required string TraceFormat { get; init; }
    public required IReadOnlyList<string> TraceNotes { get; init; }
    public required ReplayMode Mode { get; init; }
    public required double Tune { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public required IReadOnlyList<ReplayResult> Runs { get; init; }
    public required IReadOnlyList<PolicyMean> Means { get; init; }

    public static readonly JsonSerializerOptions Json = new(OutputJson.Options)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Runs without their curves (those go to curves.json) so summary.json stays readable.</summary>
    public string ToJson() => JsonSerializer.Serialize(this with { Runs = Runs.Select(r => r with { Curve = [], Timeline = [] }).ToList() }, Json);

    public static IReadOnlyList<PolicyMean> MeansOf(IEnumerable<ReplayResult> runs, IReadOnlyList<string> policyOrder, string? publishedTrace) =>
        policyOrder.Select(policy =>
        {
            var mine = runs.Where(r => r.Policy == policy).ToList();
            return new PolicyMean
            {
                Policy = policy,
                Seeds = mine.Count,
                AllocAt100 = Mean(mine, r => r.AllocAt100),
                AllocAt130 = Mean(mine, r => r.AllocAt130),
                CpuAllocAt130 = Mean(mine, r => r.CpuAllocAt130),
                MemAllocAt130 = Mean(mine, r => r.MemAllocAt130),
                FragmentationAt80 = Mean(mine, r => r.FragmentationAt80),
                FailedPods = mine.Average(r => r.FailedPods),
                PlacedPods = mine.Average(r => r.PlacedPods),
                DecisionsPerSecond = mine.Average(r => r.DecisionsPerSecond),
                WallSeconds = mine.Average(r => r.WallSeconds),
                MeanWaitSeconds = Mean(mine, r => r.MeanWaitSeconds),
                P95WaitSeconds = Mean(mine, r => r.P95WaitSeconds),
                MakespanSeconds = Mean(mine, r => r.MakespanSeconds),
                MeanGpuAllocPercent = Mean(mine, r => r.MeanGpuAllocPercent),
                MeanCpuAllocPercent = Mean(mine, r => r.MeanCpuAllocPercent),
                MaxQueueLength = Mean(mine, r => r.MaxQueueLength),
                PublishedAllocAt130 = PublishedResults.AllocAt130(publishedTrace, policy),
                PublishedAllocAt100 = PublishedResults.AllocAt100(publishedTrace, policy),
                PublishedFragmentationAt80 = PublishedResults.FragmentationAt80(publishedTrace, policy),
            };
        }).ToList();

    private static double? Mean(List<ReplayResult> runs, Func<ReplayResult, double?> metric)
    {
        var values = runs.Select(metric).Where(v => v.HasValue).Select(v => v!.Value).ToList();
        return values.Count == 0 ? null : values.Average();
    }
}
