using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Framework;

/// <summary>The outcome of one scheduling cycle; nothing is reserved by producing it.</summary>
public sealed record ScheduleResult
{
    public bool Success => Node >= 0;
    public int Node { get; init; } = -1;
    public string? NodeName { get; init; }
    public GpuAllocation Gpus { get; init; } = GpuAllocation.None;
    public long TotalScore { get; init; }
    /// <summary>Per plugin, the chosen node's normalized score (empty when only one node was feasible).</summary>
    public IReadOnlyDictionary<string, long> PluginScores { get; init; } = PluginScoreMap.Empty;
    public int FeasibleNodes { get; init; }
    public int EvaluatedNodes { get; init; }
    /// <summary>kube-scheduler style: "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu."</summary>
    public string? FailureMessage { get; init; }
    /// <summary>The cycle's plugin state, kept for PostBind.</summary>
    internal SchedulingContext? Context { get; init; }

    public static ScheduleResult Failed(string message, int evaluated) => new() { FailureMessage = message, EvaluatedNodes = evaluated };
}

/// <summary>Why each node was or was not chosen, for "why did my pod land there?".</summary>
public sealed record Explanation
{
    public required string Policy { get; init; }
    public required string Pod { get; init; }
    public string? ChosenNode { get; init; }
    public GpuAllocation Gpus { get; init; } = GpuAllocation.None;
    public string? FailureMessage { get; init; }
    /// <summary>When nothing fits and the cycle would preempt (kube's DefaultPreemption): the node it would nominate.</summary>
    public string? NominatedNode { get; init; }
    /// <summary>The pods that preemption would evict from <see cref="NominatedNode"/>; empty when it would not preempt.</summary>
    public IReadOnlyList<string> Victims { get; init; } = [];
    /// <summary>
    /// The seed of the random source the answer drew from (score ties, and preemption's sampling offset when more than
    /// 100 nodes could be freed): the seed the pod's queue shard started with. That shard's source has drawn for every
    /// cycle since, so a real cycle's ties and nominee may differ.
    /// </summary>
    public int? Seed { get; init; }
    public required IReadOnlyList<NodeExplanation> Nodes { get; init; }
}

public sealed record NodeExplanation
{
    public required string Node { get; init; }
    public bool Feasible { get; init; }
    /// <summary>Each filter plugin's verdict: null when passed, else the reason.</summary>
    public required IReadOnlyList<FilterVerdict> Filters { get; init; }
    public IReadOnlyList<PluginScore> Scores { get; init; } = [];
    public long TotalScore { get; init; }
}

public sealed record FilterVerdict(string Plugin, bool Passed, string? Reason);

public sealed record PluginScore(string Plugin, int Weight, long RawScore, long NormalizedScore, long WeightedScore);
