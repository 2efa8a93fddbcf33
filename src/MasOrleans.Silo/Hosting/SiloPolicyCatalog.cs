using MasOrleans.Grains.Learning;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Search;
using MasOrleans.Scheduling.Policies;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// The silo's policies: every built-in one, the learned `ddqn` and `ppo` whose base model is installed (from
/// `Models__Directory` when set, else the shipped models/; replaced by the cluster's active version as online learning trains it), the search
/// policies over FGD (`fgd-learned`, `fgd-adaptive`, `fgd-adaptive-wide`, `fgd-weighted`, `fgd-device`, `fgd-ties`, `fgd-lookahead`; docs/learning.md), and the profiles
/// users define under `Scheduler__Profiles`.
/// Start-up validation and the grains use this same catalog, so a name valid in one is valid in all.
/// </summary>
internal static class SiloPolicyCatalog
{
    /// <summary>The catalog alone (start-up validation): learned policies over base models, no experience recorded.</summary>
    public static PolicyCatalog Build(IConfiguration config) => Build(config, LearnedModels.FromConfiguration(config), sink: null);

    /// <summary>
    /// The silo's catalog in place of the grains' built-in default, over the silo's learned models and recording
    /// every learned decision in its experience queue.
    /// </summary>
    public static IServiceCollection AddMasSiloPolicies(this IServiceCollection services, IConfiguration config) =>
        services.Replace(ServiceDescriptor.Singleton(sp =>
            Build(config, sp.GetRequiredService<LearnedModels>(), sp.GetRequiredService<ExperienceQueue>())));

    /// <param name="sink">Receives every learned decision for online learning.</param>
    public static PolicyCatalog Build(IConfiguration config, LearnedModels models, IExperienceSink? sink)
    {
        var catalog = PolicyCatalog.CreateDefault();
        // Only over installed base models (Models__Directory, else the shipped models/): without one, a pod naming the
        // policy was accepted and never placed, its every scheduling cycle an Error (a published silo ships no models/).
        LearnedPolicies.Register(catalog, LearnedModels.KnownAlgorithms.Where(models.HasBase), models.Slot, sink, models.Describe());
        SearchPolicies.Register(catalog);
        var profiles = Configuration.StrictBinding.Get<List<ProfileDefinition>>(config.GetSection("Scheduler:Profiles"));
        if (profiles is { Count: > 0 }) ProfileConfiguration.Register(catalog, profiles);
        return catalog;
    }
}
