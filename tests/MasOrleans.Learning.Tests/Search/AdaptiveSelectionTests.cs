using MasOrleans.Learning.Search;
using MasOrleans.Learning.Tests.Workloads;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Tests.Search;

public class AdaptiveSelectionTests
{
    [Fact]
    public void Each_training_variant_gets_its_own_expert()
    {
        var (nodes, trace) = OpenbDefault.Load();
        var catalog = SearchDecisions.Catalog();
        foreach (var name in new[] { "share65", "cpu30", "spec25", "cpu11" })
        {
            var pods = TraceResampler.Resample(trace, WorkloadVariants.All.Single(v => v.Name == name).Targets, nodes, 1);
            var profile = catalog.Create(SearchPolicies.Adaptive, new PolicyOptions { TypicalPods = TypicalPods.From(pods.Select(p => p.Pod)) });
            Assert.Contains($"the best on {name})", profile.Description);
        }
    }

    [Fact]
    public void A_live_cluster_reselects_when_its_typical_pods_are_rederived()
    {
        var (nodes, trace) = OpenbDefault.Load();
        var schedulers = new PolicySchedulers(SearchDecisions.Catalog());
        var cluster = ClusterState.Of(nodes);
        var random = new Random(1);
        var cpu = trace.Select(t => t.Pod).Where(p => p.Gpu.IsNone).ToList();
        var first = schedulers.Get(SearchPolicies.Adaptive, cluster, cpu[0])!.Profile.Description;
        foreach (var pod in trace.Select(t => t.Pod).Where(p => p.Gpu.IsShared).Take(200))
        {
            var r = schedulers.Get(SearchPolicies.Adaptive, cluster, pod)!.Schedule(cluster, pod, random);
            if (r.Success) Assert.True(cluster.TryBind(r.Node, pod, r.Gpus));
        }
        var later = schedulers.Get(SearchPolicies.Adaptive, cluster, cpu[1])!.Profile.Description;
        Assert.NotEqual(first, later);
    }
}
