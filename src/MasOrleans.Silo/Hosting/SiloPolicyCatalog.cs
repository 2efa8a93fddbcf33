using MasOrleans.Grains.Learning;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// The silo's policies: every built-in one, the learned `ddqn` and `ppo` (base models from `Models__Directory` when set,
/// else the shipped models/, replaced by the cluster's active version as online learning trains it), and the
/// profiles users define under `Scheduler__Profiles`.
/// Start-up validation and the grains use this same catalog, so a name valid in one is valid in all.
/// </summary>
public static class SiloPolicyCatalog
{
    /// <summary>The catalog alone (start-up validation): learned policies over base models, no experience recorded.</summary>
    public static PolicyCatalog Build(IConfiguration config) => Build(config, CreateModels(config), sink: null);

    public static LearnedModels CreateModels(IConfiguration config) =>
        new(config["Models:Directory"] is { Length: > 0 } dir ? dir : null, config.GetValue("Learning:Online:Enabled", true));

    /// <param name="sink">Receives every learned decision for online learning.</param>
    public static PolicyCatalog Build(IConfiguration config, LearnedModels models, IExperienceSink? sink)
    {
        var catalog = PolicyCatalog.CreateDefault();
        LearnedPolicies.Register(catalog, models.Slot, sink, models.Describe());
        var profiles = config.GetSection("Scheduler:Profiles").Get<List<ProfileDefinition>>();
        if (profiles is { Count: > 0 }) ProfileConfiguration.Register(catalog, profiles);
        return catalog;
    }
}
