using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;

namespace MasOrleans.Scheduling.Policies;

/// <summary>Turns <see cref="ProfileDefinition"/>s into <see cref="SchedulingProfile"/>s and registers them as policies.</summary>
public static class ProfileConfiguration
{
    /// <summary>
    /// PolicyOptions.Settings["telemetry"] = "true" swaps request-based NodeResourcesFit scoring for measured
    /// utilization (seed 000's dynamic feedback), keeping the plugin's strategy, resources and weight.
    /// </summary>
    public const string TelemetrySetting = "telemetry";

    /// <summary>Validates every definition (throwing on the first bad field), then registers each as a policy.</summary>
    public static void Register(PolicyCatalog catalog, IEnumerable<ProfileDefinition> definitions, ScorePluginRegistry? registry = null)
    {
        registry ??= ScorePluginRegistry.Default;
        var list = definitions.ToList();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < list.Count; i++)
        {
            var definition = list[i];
            Validate(definition, $"profiles[{i}]", registry);
            if (!names.Add(definition.Name)) throw new ProfileValidationException($"profiles[{i}].name", $"duplicate profile name '{definition.Name}'");
        }
        foreach (var definition in list)
            catalog.Register(definition.Name, definition.Description, options => Build(definition, options, registry));
    }

    public static void Validate(ProfileDefinition definition, string path, ScorePluginRegistry registry)
    {
        if (string.IsNullOrWhiteSpace(definition.Name)) throw new ProfileValidationException($"{path}.name", "a profile needs a name");
        // Its series would be one with those of pods whose policy is gone.
        if (string.Equals(definition.Name, Telemetry.MasMeters.UnknownPolicy, StringComparison.OrdinalIgnoreCase))
            throw new ProfileValidationException($"{path}.name",
                $"'{definition.Name}' is reserved: the scheduling metrics count pods whose policy is not known under policy=\"{Telemetry.MasMeters.UnknownPolicy}\"");
        if (!FilterSets.IsKnown(definition.Filters))
            throw new ProfileValidationException($"{path}.filters", $"unknown filter set '{definition.Filters}' (known: {FilterSets.Kube}, {FilterSets.Standard})");
        if (definition.PercentageOfNodesToScore is < 0 or > 100)
            throw new ProfileValidationException($"{path}.percentageOfNodesToScore", $"must be 0..100, got {definition.PercentageOfNodesToScore}");
        if (definition.DeviceSelector != BestFitDeviceSelector.Instance.Name)
            throw new ProfileValidationException($"{path}.deviceSelector", $"unknown device selector '{definition.DeviceSelector}' (known: best-fit)");
        if (definition.Scores.Count == 0) throw new ProfileValidationException($"{path}.scores", "a profile needs at least one score plugin");
        for (var i = 0; i < definition.Scores.Count; i++)
        {
            var score = definition.Scores[i];
            var at = $"{path}.scores[{i}]";
            if (score.Weight <= 0) throw new ProfileValidationException($"{at}.weight", $"must be positive, got {score.Weight}");
            registry.Create(score, at); // builds once to surface bad names and args now, not at first use
        }
    }

    public static SchedulingProfile Build(ProfileDefinition definition, PolicyOptions options, ScorePluginRegistry? registry = null)
    {
        registry ??= ScorePluginRegistry.Default;
        var telemetry = SettingValues.Flag(options.Settings, TelemetrySetting);
        var scores = new List<WeightedScorePlugin>(definition.Scores.Count);
        for (var i = 0; i < definition.Scores.Count; i++)
        {
            var score = definition.Scores[i];
            if (telemetry && score.Name == ScorePluginRegistry.NodeResourcesFit) score = Retarget(score, ScorePluginRegistry.TelemetryUtilization);
            scores.Add(new WeightedScorePlugin(registry.Create(score, $"{definition.Name}.scores[{i}]", options), score.Weight));
        }
        return new SchedulingProfile
        {
            Name = definition.Name,
            Description = definition.Description,
            Filters = FilterSets.Create(definition.Filters),
            Scores = scores,
            DeviceSelector = BestFitDeviceSelector.Instance,
            PercentageOfNodesToScore = options.PercentageOfNodesToScore ?? definition.PercentageOfNodesToScore,
        };
    }

    private static ScorePluginDefinition Retarget(ScorePluginDefinition score, string name) => new()
    {
        Name = name,
        Weight = score.Weight,
        Strategy = score.Strategy == "RequestedToCapacityRatio" ? "MostAllocated" : score.Strategy,
        Resources = score.Resources,
        Args = score.Args,
    };
}
