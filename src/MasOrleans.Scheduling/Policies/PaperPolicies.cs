using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Plugins.Scores;

namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// The ATC'23 FGD paper's baselines and method, as its simulator runs them: the standard filters, ONE score
/// plugin (kube-scheduler's default scores disabled), every feasible node scored (percentageOfNodesToScore
/// 100) and best-fit GPU device choice for shared pods unless the policy chooses its own (FGD).
/// Setting "gpusel" = "worst" switches the baselines to worst-fit device choice (the simulator's -gpusel).
/// </summary>
public static class PaperPolicies
{
    public static void Register(PolicyCatalog catalog)
    {
        Baseline(catalog, "random", "Uniformly random feasible node (FGD paper baseline).", _ => new RandomScore());
        Baseline(catalog, "dotprod", "Tetris dot product of free and requested (cpu, GPU), -dimext merge -norm max (FGD paper baseline).", _ => new DotProductScore());
        Baseline(catalog, "gpu-clustering", "Keep pods of one GPU shape together (FGD paper baseline).", _ => new GpuClusteringScore());
        Baseline(catalog, "gpu-packing", "Prefer partly used GPUs, then partly used nodes (FGD paper baseline).", _ => new GpuPackingScore());
        Baseline(catalog, "best-fit", "Least (cpu, GPU) left after placement, min-max normalized (FGD paper baseline).", _ => new BestFitScore());

        catalog.Register("fgd", "Fragmentation Gradient Descent (Weng et al., ATC'23), -dimext share -norm max; needs typical pods.", o =>
        {
            var evaluator = new FgdEvaluator(new FragmentationModel(o.TypicalPods ?? []));
            return new SchedulingProfile
            {
                Name = "fgd",
                Filters = PolicyCatalog.StandardFilters(),
                Scores = [new(new FgdScore(evaluator), 1)],
                DeviceSelector = new FgdDeviceSelector(evaluator),
                PercentageOfNodesToScore = o.PercentageOfNodesToScore ?? 100,
                Description = "Fragmentation Gradient Descent (ATC'23).",
            };
        });
    }

    private static void Baseline(PolicyCatalog catalog, string name, string description, Func<PolicyOptions, IScorePlugin> score) =>
        catalog.Register(name, description, o => new SchedulingProfile
        {
            Name = name,
            Filters = PolicyCatalog.StandardFilters(),
            Scores = [new(score(o), 1)],
            DeviceSelector = DeviceSelectorFor(o),
            PercentageOfNodesToScore = o.PercentageOfNodesToScore ?? 100,
            Description = description,
        });

    private static IGpuDeviceSelector DeviceSelectorFor(PolicyOptions o) =>
        o.Settings.GetValueOrDefault("gpusel") switch
        {
            null or "best" => BestFitDeviceSelector.Instance,
            "worst" => WorstFitDeviceSelector.Instance,
            var other => throw new ArgumentException($"unknown gpusel '{other}' (known: best, worst)"),
        };
}
