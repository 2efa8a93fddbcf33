namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// Seed 001's ResourceScheduler strategies (first_fit, worst_fit, round_robin, load_balanced, energy_aware,
/// priority) as profiles over kube-scheduler's filters. Each scores every feasible node by default, since
/// the seed compares all suitable nodes; best_fit's weighting is <c>WeightedFreeCapacityScore</c>.
/// </summary>
public static class Seed001Policies
{
    public static IReadOnlyList<ProfileDefinition> Definitions() =>
    [
        Single("first-fit", "Seed 001 first_fit: the first feasible node in node order.", new() { Name = "FirstFit" }),
        Single("worst-fit", "Seed 001 worst_fit: most free capacity (cores + 0.5 x memory GiB + 4 x GPUs).",
            new() { Name = "WeightedFreeCapacity", Args = { ["preference"] = "Highest" } }),
        Single("round-robin", "Seed 001 round_robin: the next feasible node after the last one chosen.", new() { Name = "RoundRobin" }),
        Single("load-balanced", "Seed 001 load_balanced: lowest mean of cpu and memory utilization.",
            new() { Name = "Seed001Utilization", Args = { ["objective"] = "LoadBalanced" } }),
        Single("energy-aware", "Seed 001 energy_aware: consolidate onto the busiest nodes so idle ones can power down.",
            new() { Name = "Seed001Utilization", Args = { ["objective"] = "EnergyAware" } }),
        Single("priority", "Seed 001 priority: utilization closest to 70% (|cpu - 0.7| + 0.5 |memory - 0.7|).",
            new() { Name = "Seed001Utilization", Args = { ["objective"] = "TargetUtilization", ["target"] = "0.7" } }),
    ];

    public static void Register(PolicyCatalog catalog) => ProfileConfiguration.Register(catalog, Definitions());

    private static ProfileDefinition Single(string name, string description, ScorePluginDefinition score) => new()
    {
        Name = name,
        Description = description,
        Scores = [score],
        PercentageOfNodesToScore = 100,
    };
}
