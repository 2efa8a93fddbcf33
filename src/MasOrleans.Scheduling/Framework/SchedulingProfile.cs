namespace MasOrleans.Scheduling.Framework;

/// <summary>
/// A named composition of plugins, like a kube-scheduler profile. Profiles are data: the policy
/// catalog builds them from names and weights, and users can define their own in configuration.
/// </summary>
public sealed record SchedulingProfile
{
    public required string Name { get; init; }
    public required IReadOnlyList<IFilterPlugin> Filters { get; init; }
    public required IReadOnlyList<WeightedScorePlugin> Scores { get; init; }
    public required IGpuDeviceSelector DeviceSelector { get; init; }

    /// <summary>
    /// kube-scheduler's percentageOfNodesToScore: 0 means its adaptive default
    /// (max(5, 50 - nodes/125)), 100 scores every feasible node.
    /// </summary>
    public int PercentageOfNodesToScore { get; init; }

    /// <summary>How the host is chosen among nodes sharing the highest total score (default: uniformly at random).</summary>
    public HostTieBreak TieBreak { get; init; } = HostTieBreak.Random;

    public string Description { get; init; } = "";
}

/// <summary>Tie-break among the best-scoring nodes.</summary>
public enum HostTieBreak
{
    /// <summary>kube-scheduler's selectHost: reservoir sampling, each tied node equally likely.</summary>
    Random,

    /// <summary>
    /// The FGD simulator's patched selectHost ("for reproducibility"): the tied node whose name is
    /// smallest in byte order wins, so equal scores pack onto the same low-named nodes.
    /// </summary>
    LowestName,
}
