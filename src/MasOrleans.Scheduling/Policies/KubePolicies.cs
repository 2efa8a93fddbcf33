namespace MasOrleans.Scheduling.Policies;

/// <summary>kube-scheduler's default profile and its multi-resource extension, both as profile data.</summary>
public static class KubePolicies
{
    /// <summary>
    /// kube-scheduler v1.35's default profile: default score weights (default_plugins.go). Settings:
    /// "balancedAllocation" = "change" selects v1.36's change-in-balance formula; "telemetry" = "true"
    /// scores measured utilization instead of requests.
    /// </summary>
    public static ProfileDefinition Kube() => new()
    {
        Name = "kube",
        Description = "kube-scheduler's default profile (v1.35 filters, scores, weights and integer rounding).",
        Scores = DefaultScores(resources: null),
    };

    /// <summary>
    /// kube-scheduler's default score plugins and weights (default_plugins.go); <paramref name="resources"/> widens
    /// NodeResourcesFit and BalancedAllocation beyond cpu and memory.
    /// </summary>
    private static List<ScorePluginDefinition> DefaultScores(List<ResourceWeightDefinition>? resources) =>
    [
        new() { Name = "TaintToleration", Weight = 3 },
        new() { Name = "NodeAffinity", Weight = 2 },
        new() { Name = "PodTopologySpread", Weight = 2 },
        new() { Name = "InterPodAffinity", Weight = 2 },
        new() { Name = ScorePluginRegistry.NodeResourcesFit, Weight = 1, Strategy = "LeastAllocated", Resources = resources },
        new() { Name = "NodeResourcesBalancedAllocation", Weight = 1, Resources = resources },
        new() { Name = "ImageLocality", Weight = 1 },
    ];

    /// <summary>Per-dimension weights of kube-plus: GPUs are the scarce resource, so they weigh most.</summary>
    public static List<ResourceWeightDefinition> AllDimensions() =>
    [
        new() { Name = "cpu", Weight = 1 },
        new() { Name = "memory", Weight = 1 },
        new() { Name = "nvidia.com/gpu", Weight = 3 },
        new() { Name = "mas.io/disk-io", Weight = 1 },
        new() { Name = "mas.io/network", Weight = 1 },
        new() { Name = "ephemeral-storage", Weight = 1 },
    ];

    /// <summary>
    /// The same framework over every dimension (cpu, memory, GPU, disk I/O, network, ephemeral storage) with
    /// per-dimension weights, per-device GPU fit (in NodeResourcesFit's filter), GPU models through the
    /// nvidia.com/gpu.product label in required node affinity, and a GPU-share packing score.
    /// </summary>
    public static ProfileDefinition KubePlus() => new()
    {
        Name = "kube-plus",
        Description = "kube-scheduler's framework over cpu, memory, GPU (per device), disk I/O, network and ephemeral storage, with GPU-share packing.",
        Scores = [.. DefaultScores(AllDimensions()), new() { Name = "GpuSharePacking", Weight = 2 }],
    };

    public static void Register(PolicyCatalog catalog) => ProfileConfiguration.Register(catalog, [Kube(), KubePlus()]);
}
