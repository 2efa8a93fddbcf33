using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Scores;

namespace MasOrleans.Scheduling.Policies;

/// <summary>kube-scheduler's profiles and their multi-resource extension.</summary>
public static class KubePolicies
{
    public static void Register(PolicyCatalog catalog)
    {
        catalog.Register("kube", "kube-scheduler's default profile (v1.35 formulas).", o => new SchedulingProfile
        {
            Name = "kube",
            Filters = PolicyCatalog.StandardFilters(),
            Scores =
            [
                new(new NodeResourcesFitScore(ScoringStrategy.LeastAllocated), 1),
                new(new BalancedAllocationScore(scoreChange: o.Settings.GetValueOrDefault("balancedAllocation") == "change"), 1),
            ],
            DeviceSelector = BestFitDeviceSelector.Instance,
            PercentageOfNodesToScore = o.PercentageOfNodesToScore ?? 0,
        });
    }
}
