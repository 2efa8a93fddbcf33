using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Plugins.Scores;
using MasOrleans.Scheduling.Plugins.Seed;

namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// The ATC'23 FGD paper's baselines and method, as its simulator runs them: the standard filters, ONE score
/// plugin (kube-scheduler's default scores disabled), every feasible node scored (percentageOfNodesToScore
/// 100) and best-fit GPU device choice for shared pods unless the policy chooses its own (FGD; Random draws at random).
/// Setting "gpusel" (best, worst, random: the simulator's -gpusel) overrides the baselines' device choice for shared pods.
/// Ties among the best-scoring nodes go to the lowest node name, as the simulator's patched selectHost does
/// (setting "tiebreak" = "random" restores kube-scheduler's random choice).
/// </summary>
public static class PaperPolicies
{
    public static void Register(PolicyCatalog catalog)
    {
        Baseline(catalog, "random", "Uniformly random feasible node and shared GPU device (FGD paper baseline, -gpusel random).", _ => new RandomScore(), "random");
        Baseline(catalog, "dotprod", "Tetris dot product of free and requested (cpu, GPU), -dimext merge -norm max (FGD paper baseline).", _ => new DotProductScore());
        Baseline(catalog, "gpu-clustering", "Keep pods of one GPU shape together (FGD paper baseline).", _ => new GpuClusteringScore());
        Baseline(catalog, "gpu-packing", "Prefer partly used GPUs, then partly used nodes (FGD paper baseline).", _ => new GpuPackingScore());
        Baseline(catalog, "best-fit", "Least (cpu, GPU) left after placement, min-max normalized (FGD paper baseline); bestFitWeighting=seed001 for seed 001's weighting.", BestFitFor);

        catalog.Register("fgd", "Fragmentation Gradient Descent (Weng et al., ATC'23), -dimext share -norm max; needs typical pods.", o =>
        {
            var evaluator = new FgdEvaluator(new FragmentationModel(o.TypicalPods ?? []), FgdCacheFor(o));
            return Profile("fgd", new FgdScore(evaluator), new FgdDeviceSelector(evaluator), o, TieBreakFor(o), "Fragmentation Gradient Descent (ATC'23).");
        });
    }

    private static void Baseline(PolicyCatalog catalog, string name, string description, Func<PolicyOptions, IScorePlugin> score, string gpusel = "best") =>
        catalog.Register(name, description, o => Profile(name, score(o), DeviceSelectorFor(o, gpusel), o, TieBreakFor(o), description));

    /// <summary>
    /// A profile as the paper's simulator runs one: the standard filters, this ONE score plugin, every feasible node scored
    /// unless the options say otherwise. The baselines, fgd, its variants (fgd-weighted, fgd-lookahead) and the learned policies
    /// differ in score, device choice and tie-break.
    /// </summary>
    public static SchedulingProfile Profile(string name, IScorePlugin score, IGpuDeviceSelector deviceSelector, PolicyOptions o,
        HostTieBreak tieBreak, string description) => new()
    {
        Name = name,
        Filters = FilterSets.Create(FilterSets.Standard),
        Scores = [new(score, 1)],
        DeviceSelector = deviceSelector,
        PercentageOfNodesToScore = o.PercentageOfNodesToScore ?? 100,
        TieBreak = tieBreak,
        Description = description,
    };

    /// <summary>
    /// Setting "bestFitWeighting": "paper" (default) is the simulator's (cpu, GPU) leftover; "seed001" is design seed
    /// 001's weighting (cpu milli + memory GiB x 500 + GPU milli x 4, lowest free wins), from the seed-001 family.
    /// </summary>
    public static IScorePlugin BestFitFor(PolicyOptions o) =>
        o.Settings.GetValueOrDefault("bestFitWeighting") switch
        {
            null or "paper" => new BestFitScore(),
            "seed001" => new WeightedFreeCapacityScore(Preference.Lowest),
            var other => throw new UserArgumentException($"unknown bestFitWeighting '{other}' (known: paper, seed001)"),
        };

    /// <summary>Setting "fgdCache": "on" (default) keeps per-node results per pod shape across decisions; "off" recomputes every node (the reference).</summary>
    public static bool FgdCacheFor(PolicyOptions o) =>
        o.Settings.GetValueOrDefault("fgdCache") switch
        {
            null or "on" => true,
            "off" => false,
            var other => throw new UserArgumentException($"unknown fgdCache '{other}' (known: on, off)"),
        };

    public static HostTieBreak TieBreakFor(PolicyOptions o) =>
        o.Settings.GetValueOrDefault("tiebreak") switch
        {
            null or "lowest-name" => HostTieBreak.LowestName,
            "random" => HostTieBreak.Random,
            var other => throw new UserArgumentException($"unknown tiebreak '{other}' (known: lowest-name, random)"),
        };

    /// <summary>The simulator's -gpusel; its experiment scripts pass `random` for Random and leave the rest at `best`.</summary>
    private static IGpuDeviceSelector DeviceSelectorFor(PolicyOptions o, string policyDefault) =>
        (o.Settings.GetValueOrDefault("gpusel") ?? policyDefault) switch
        {
            "best" => BestFitDeviceSelector.Instance,
            "worst" => WorstFitDeviceSelector.Instance,
            "random" => RandomDeviceSelector.Instance,
            var other => throw new UserArgumentException($"unknown gpusel '{other}' (known: best, worst, random)"),
        };
}
