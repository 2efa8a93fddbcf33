using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Policies;

/// <summary>What a policy may need beyond the cluster itself (typical pod shapes, models...).</summary>
public sealed record PolicyOptions
{
    public static readonly PolicyOptions Default = new();

    /// <summary>Overrides the profile's percentageOfNodesToScore (0 adaptive, 100 every node).</summary>
    public int? PercentageOfNodesToScore { get; init; }

    /// <summary>Extra settings by key, for plugins that take them (e.g. "balancedAllocation" = "change").</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// FGD's typical pod shapes with their frequencies (see Fragmentation.TypicalPods.From). Null or empty:
    /// FGD sees no fragmentation and degenerates to a random feasible node, so callers should pass them
    /// (the replay tool derives them from the trace; the silo from pods seen so far or configuration).
    /// </summary>
    public IReadOnlyList<Fragmentation.TypicalPod>? TypicalPods { get; init; }
}

public sealed record PolicyInfo(string Name, string Description);

/// <summary>Maps the policy names users type to profiles. Every consumer (silo, replay, trainers) builds policies here.</summary>
public sealed class PolicyCatalog
{
    private readonly Dictionary<string, (string Name, string Description, Func<PolicyOptions, SchedulingProfile> Factory)> _factories =
        new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every built-in policy. Each family registers itself from its own file.</summary>
    public static PolicyCatalog CreateDefault()
    {
        var catalog = new PolicyCatalog();
        KubePolicies.Register(catalog);
        PaperPolicies.Register(catalog);
        Seed001Policies.Register(catalog);
        return catalog;
    }

    public void Register(string name, string description, Func<PolicyOptions, SchedulingProfile> factory)
    {
        // Removed first so the key keeps the spelling registered last, as the value's Name does.
        _factories.Remove(name);
        _factories[name] = (name, description, factory);
    }

    public bool Contains(string name) => _factories.ContainsKey(name);

    /// <summary>
    /// The name as registered ("fgd" for "FGD"), or null when unknown: names match case-insensitively, and what a caller
    /// stores or labels metrics with is the registered spelling, so one policy is one series.
    /// </summary>
    public string? Canonical(string name) => _factories.TryGetValue(name, out var entry) ? entry.Name : null;

    public IReadOnlyList<PolicyInfo> Policies =>
        _factories.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new PolicyInfo(kv.Key, kv.Value.Description)).ToList();

    public SchedulingProfile Create(string name, PolicyOptions? options = null) =>
        _factories.TryGetValue(name, out var entry)
            ? entry.Factory(options ?? PolicyOptions.Default)
            : throw new UnknownPolicyException(UnknownPolicyMessage(name));

    /// <summary>
    /// Refuses settings that none of <paramref name="policies"/> reads: a misspelt key ("gpusell") would otherwise run
    /// every policy with its defaults and say nothing. Builds each policy once over settings that record what it asked for.
    /// </summary>
    public void CheckSettings(IEnumerable<string> policies, PolicyOptions options)
    {
        if (options.Settings.Count == 0) return;
        var names = policies.ToList();
        var recording = new RecordingSettings(options.Settings);
        foreach (var name in names) Create(name, options with { Settings = recording });
        var unread = options.Settings.Keys.Where(k => !recording.Asked.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unread.Count > 0)
            throw new UserArgumentException($"no policy among {string.Join(", ", names)} reads the setting{(unread.Count > 1 ? "s" : "")} "
                + $"{string.Join(", ", unread.Select(k => $"'{k}'"))}: misspelt, or meant for another policy");
    }

    /// <summary>The known names, sorted, for messages that list them.</summary>
    public string KnownNames => string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal));

    /// <summary>What every caller says of a name the catalog does not know, with the name it was likely meant to be.</summary>
    public string UnknownPolicyMessage(string name) =>
        $"unknown policy '{name}'{(Spelling.Nearest(name, _factories.Keys) is { } meant ? $"; did you mean '{meant}'?" : "")} (known: {KnownNames})";
}

public sealed class UnknownPolicyException(string message) : Exception(message);
