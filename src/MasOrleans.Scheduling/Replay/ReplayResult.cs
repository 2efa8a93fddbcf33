using System.Text.Json.Serialization;

namespace MasOrleans.Scheduling.Replay;

[JsonConverter(typeof(JsonStringEnumConverter<ReplayMode>))]
public enum ReplayMode
{
    /// <summary>The FGD paper's protocol: shuffled arrivals up to tune x GPU capacity, no departures, no retries.</summary>
    Paper,
    /// <summary>Trace timestamps: departures free capacity, pods that do not fit wait and retry.</summary>
    Timed,
}

/// <summary>One sample of the paper-mode curve: cluster state when arrived GPU demand reached ArrivedPercent.</summary>
public sealed record DemandPoint(double ArrivedPercent, double GpuAllocPercent, double FragmentationPercent, double CpuAllocPercent, double MemAllocPercent);

/// <summary>One sample of a timed replay.</summary>
public sealed record TimePoint(double Seconds, double GpuAllocPercent, double CpuAllocPercent, int QueueLength);

/// <summary>What one replay of one policy with one seed measured. Percentages are of cluster capacity.</summary>
public sealed record ReplayResult
{
    public required string Policy { get; init; }
    public required int Seed { get; init; }
    public required ReplayMode Mode { get; init; }
    public required int Nodes { get; init; }
    public required long ClusterGpuMilli { get; init; }
    /// <summary>Pods that arrived (paper mode: trace pods plus tuned copies).</summary>
    public required int ArrivedPods { get; init; }
    public required int PlacedPods { get; init; }
    /// <summary>Paper mode: pods that fit nowhere on arrival. Timed mode: pods still waiting when the trace ends.</summary>
    public required int FailedPods { get; init; }
    public double? AllocAt100 { get; init; }
    public double? AllocAt130 { get; init; }
    public double? CpuAllocAt130 { get; init; }
    public double? MemAllocAt130 { get; init; }
    public double? FragmentationAt80 { get; init; }
    public required double DecisionsPerSecond { get; init; }
    public required double WallSeconds { get; init; }
    public int TypicalPodShapes { get; init; }
    /// <summary>Failed placements by pod kind: cpu-only, shared-gpu, 1-gpu, 2-gpu...</summary>
    public IReadOnlyDictionary<string, int> FailuresByKind { get; init; } = new Dictionary<string, int>();

    // Timed mode only.
    public double? MeanWaitSeconds { get; init; }
    public double? P95WaitSeconds { get; init; }
    public double? MakespanSeconds { get; init; }
    public double? MeanGpuAllocPercent { get; init; }
    public double? MeanCpuAllocPercent { get; init; }
    public int? MaxQueueLength { get; init; }

    public IReadOnlyList<DemandPoint> Curve { get; init; } = [];
    public IReadOnlyList<TimePoint> Timeline { get; init; } = [];
}
