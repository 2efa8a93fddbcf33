using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// The silo's policies: every built-in one, the learned `ddqn` and `ppo` (from `Models__Directory` when set,
/// else the shipped models/), and the profiles users define under `Scheduler__Profiles`.
/// Start-up validation and the grains use this same catalog, so a name valid in one is valid in all.
/// </summary>
public static class SiloPolicyCatalog
{
    public static PolicyCatalog Build(IConfiguration config)
    {
        var catalog = PolicyCatalog.CreateDefault();
        var models = config["Models:Directory"];
        LearnedPolicies.Register(catalog, string.IsNullOrWhiteSpace(models)
            ? null
            : LearnedPolicies.Algorithms.ToDictionary(a => a, a => Path.Combine(models, a)));
        var profiles = config.GetSection("Scheduler:Profiles").Get<List<ProfileDefinition>>();
        if (profiles is { Count: > 0 }) ProfileConfiguration.Register(catalog, profiles);
        return catalog;
    }
}
