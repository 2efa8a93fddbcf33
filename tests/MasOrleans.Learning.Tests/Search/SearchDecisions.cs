using MasOrleans.Learning.Search;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Learning.Tests.Search;

/// <summary>The search policies' decisions on a seeded paper run, to compare policies decision by decision.</summary>
internal static class SearchDecisions
{
    public static PolicyCatalog Catalog()
    {
        var catalog = PolicyCatalog.CreateDefault();
        SearchPolicies.Register(catalog);
        return catalog;
    }

    /// <summary>
    /// "node:devices" for the paper arrivals, in order ("-" = failed), on a seeded tie-break order: on the synthetic cluster
    /// and trace, or on 48 sampled openb nodes with the real trace's share sizes (the synthetic trace's 250, 500 and 750 milli
    /// shares leave every rule the same device). <paramref name="freshPerDecision"/>: a new policy for every decision, so
    /// nothing a policy keeps between decisions (its caches) is used. <paramref name="typical"/>: the typical pods the policy is
    /// given in place of the trace's own (what an adaptive policy chooses its weights by).
    /// </summary>
    public static List<string> Of(string policy, IReadOnlyDictionary<string, string> settings, int seed, bool openb = false, bool freshPerDecision = false,
        IReadOnlyList<TypicalPod>? typical = null)
    {
        var (nodes, trace) = openb ? SampledOpenb.Load(48) : (SyntheticPaperCluster.Nodes(), SyntheticPaperCluster.Pods(160));
        var options = new PolicyOptions { TypicalPods = typical ?? TypicalPods.From(trace), Settings = settings };
        var catalog = Catalog();
        var kept = new ProfileScheduler(catalog.Create(policy, options));
        var cluster = ClusterState.Of(nodes);
        var random = new Random(seed);
        var arrivals = PaperArrivals.Build(trace, cluster.GpuDeviceTotal * 1000L, 1.3, random);
        cluster.SetTieBreakRank(SimulatorNodeNames.TieBreakRank(cluster.Nodes.Select(n => n.Name).ToList(), random));
        var decisions = new List<string>();
        foreach (var pod in arrivals)
        {
            var scheduler = freshPerDecision ? new ProfileScheduler(catalog.Create(policy, options)) : kept;
            var result = scheduler.Schedule(cluster, pod, random);
            if (result.Success) Assert.True(cluster.TryBind(result.Node, pod, result.Gpus));
            decisions.Add(result.Success ? $"{result.NodeName}:{string.Join('+', result.Gpus.Devices)}" : "-");
        }
        return decisions;
    }
}
