using System.Text.Json;
using System.Text.Json.Serialization;

namespace MasOrleans.Learning;

/// <summary>metadata.json of a model directory: enough to rebuild the network and to know where it came from.</summary>
public sealed record ModelMetadata
{
    public const int CurrentVersion = 1;
    public const string FileName = "metadata.json";

    /// <summary>"ppo" or "ddqn".</summary>
    public required string Algorithm { get; init; }
    /// <summary>"node-scorer" (any cluster size) or "fixed-vector" (seed-002 state_dim → action_dim).</summary>
    public required string Kind { get; init; }
    public int Version { get; init; } = CurrentVersion;
    public required FeatureLayout FeatureLayout { get; init; }
    public required IReadOnlyList<int> HiddenSizes { get; init; }
    public int? StateDim { get; init; }
    public int? ActionDim { get; init; }
    /// <summary>Workload trace the model was trained on, if any.</summary>
    public string? Trace { get; init; }
    public int Seed { get; init; }
    public IReadOnlyDictionary<string, double> TrainingMetrics { get; init; } = new Dictionary<string, double>();
    public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;
    /// <summary>Command line that produced the model.</summary>
    public string? Command { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never, // a stable schema: absent trace/command are explicit nulls
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN losses must not break saving
    };
}

/// <summary>Optional provenance the caller attaches when saving.</summary>
public sealed record ModelProvenance(
    string? Trace = null,
    string? Command = null,
    IReadOnlyDictionary<string, double>? TrainingMetrics = null);
