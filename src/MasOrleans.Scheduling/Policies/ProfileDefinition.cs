namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// A scheduling profile as data, shaped for Microsoft.Extensions.Configuration binding (settable properties,
/// lists, string dictionaries), e.g. from appsettings.json "Scheduling:Profiles". The core has no
/// configuration dependency: hosts bind these POCOs and call <see cref="ProfileConfiguration.Register"/>.
/// </summary>
public sealed class ProfileDefinition
{
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";

    /// <summary>"kube" (kube-scheduler's default filters incl. topology spread and inter-pod affinity) or "standard" (no pod-to-pod filters).</summary>
    public string Filters { get; set; } = FilterSets.Kube;

    public List<ScorePluginDefinition> Scores { get; set; } = [];

    /// <summary>0 = kube-scheduler's adaptive default, 100 = score every feasible node; PolicyOptions may override.</summary>
    public int PercentageOfNodesToScore { get; set; }

    /// <summary>Only "best-fit" ships with the core; other device selectors register by name in the registry.</summary>
    public string DeviceSelector { get; set; } = "best-fit";
}

public sealed class ScorePluginDefinition
{
    /// <summary>A plugin name known to the <see cref="ScorePluginRegistry"/>, e.g. "NodeResourcesFit".</summary>
    public string Name { get; set; } = "";
    public int Weight { get; set; } = 1;

    /// <summary>NodeResourcesFit / TelemetryUtilization: LeastAllocated, MostAllocated or RequestedToCapacityRatio.</summary>
    public string? Strategy { get; set; }

    /// <summary>Resources and their weights, e.g. [{ "name": "cpu", "weight": 1 }, { "name": "nvidia.com/gpu", "weight": 3 }].</summary>
    public List<ResourceWeightDefinition>? Resources { get; set; }

    /// <summary>RequestedToCapacityRatio's shape: utilization 0..100 to score 0..10, utilization increasing.</summary>
    public List<ShapePointDefinition>? Shape { get; set; }

    /// <summary>Plugin-specific settings, e.g. "scoreChange": "true", "preference": "lowest", "hardPodAffinityWeight": "1".</summary>
    public Dictionary<string, string> Args { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class ResourceWeightDefinition
{
    public string Name { get; set; } = "";
    public long Weight { get; set; } = 1;
}

public sealed class ShapePointDefinition
{
    public int Utilization { get; set; }
    public int Score { get; set; }
}

/// <summary>A profile definition that cannot be built; <see cref="Field"/> names the offending field.</summary>
public sealed class ProfileValidationException(string field, string message) : Exception($"{field}: {message}")
{
    public string Field { get; } = field;
}
