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

    public string Description { get; init; } = "";
}
