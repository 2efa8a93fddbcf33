using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Scores;

namespace MasOrleans.Scheduling.Policies;

/// <summary>The ATC'23 FGD paper's baselines and method, as published.</summary>
public static class PaperPolicies
{
    public static void Register(PolicyCatalog catalog)
    {
        catalog.Register("random", "Uniformly random feasible node (FGD paper baseline).", o => new SchedulingProfile
        {
            Name = "random",
            Filters = PolicyCatalog.StandardFilters(),
            Scores = [new(new RandomScore(), 1)],
            DeviceSelector = BestFitDeviceSelector.Instance,
            PercentageOfNodesToScore = o.PercentageOfNodesToScore ?? 100,
        });
    }
}
