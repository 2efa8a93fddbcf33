namespace MasOrleans.Learning.Workloads;

/// <summary>A named resampling of the default trace; held-out variants are never used to train or tune a policy.</summary>
public sealed record WorkloadVariant(string Name, ResampleTargets Targets, bool HeldOut, string Description, int ResampleSeed = 1);

/// <summary>
/// The fixed list of default-trace variants the learned and search policies are judged on. The openb default trace
/// has 13.3% CPU-only pods; of its GPU pods 43.6% share a GPU, 1.1% use several and none names a GPU model (the
/// paper's own variants: gpushare40 56.6% shared, multigpu20 3.4% multi-GPU, cpu050 5.0% CPU-only, gpuspec10 10.4%
/// constrained). Training variants sit at other percentages than the held-out ones, and both differ from the paper's.
/// </summary>
public static class WorkloadVariants
{
    public static readonly IReadOnlyList<WorkloadVariant> All =
    [
        new("share65", new() { SharedOfGpuPods = 0.65 }, false, "65% of GPU pods share a GPU"),
        new("multi6", new() { MultiGpuOfGpuPods = 0.06 }, false, "6% of GPU pods multi-GPU"),
        new("cpu30", new() { CpuOnlyOfPods = 0.30 }, false, "30% of pods CPU-only"),
        new("spec25", new() { ConstrainedOfGpuPods = 0.25 }, false, "25% of GPU pods constrained to one GPU model"),
        new("mix-share60-multi5", new() { SharedOfGpuPods = 0.60, MultiGpuOfGpuPods = 0.05 }, false, "60% sharing and 5% multi-GPU"),

        new("share50", new() { SharedOfGpuPods = 0.50 }, true, "50% of GPU pods share a GPU"),
        new("multi3", new() { MultiGpuOfGpuPods = 0.03 }, true, "3% of GPU pods multi-GPU"),
        new("cpu20", new() { CpuOnlyOfPods = 0.20 }, true, "20% of pods CPU-only"),
        new("cpu8", new() { CpuOnlyOfPods = 0.08 }, true, "8% of pods CPU-only (fewer than the default)"),
        new("spec15", new() { ConstrainedOfGpuPods = 0.15 }, true, "15% of GPU pods constrained to one GPU model"),
        new("mix-all", new() { SharedOfGpuPods = 0.55, MultiGpuOfGpuPods = 0.04, CpuOnlyOfPods = 0.20, ConstrainedOfGpuPods = 0.10 }, true,
            "55% sharing, 4% multi-GPU, 20% CPU-only, 10% constrained"),
    ];

    public static IReadOnlyList<WorkloadVariant> Training => All.Where(v => !v.HeldOut).ToList();
    public static IReadOnlyList<WorkloadVariant> HeldOut => All.Where(v => v.HeldOut).ToList();

    /// <summary>"all", "train", "held-out", or variant names separated by commas.</summary>
    public static IReadOnlyList<WorkloadVariant> Select(string selection) => selection switch
    {
        "all" => All,
        "train" => Training,
        "held-out" => HeldOut,
        "none" => [],
        _ => selection.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => All.FirstOrDefault(v => v.Name == n)
                ?? throw new ArgumentException($"unknown variant '{n}' (known: all, train, held-out, none, {string.Join(", ", All.Select(v => v.Name))})"))
            .ToList(),
    };
}
