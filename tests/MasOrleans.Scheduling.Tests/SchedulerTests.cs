using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

public class SchedulerTests
{
    [Fact]
    public void Kube_prefers_the_least_allocated_node_and_explains_failures()
    {
        var cluster = Of(Node("busy", 4000, 8 * Gi), Node("idle", 4000, 8 * Gi), Node("cordoned", 64000, 64 * Gi, unschedulable: true));
        Assert.True(cluster.TryBind(0, Pod("old", 3000, 4 * Gi), Model.GpuAllocation.None));
        var scheduler = new ProfileScheduler(PolicyCatalog.CreateDefault().Create("kube"));
        var result = scheduler.Schedule(cluster, Pod("p", 500, 1 * Gi), new Random(7));
        Assert.Equal("idle", result.NodeName);

        var tooBig = scheduler.Schedule(cluster, Pod("huge", 16000, 1 * Gi), new Random(7));
        Assert.False(tooBig.Success);
        // FitError.Error sorts the "count reason" strings (sort.Strings): "1 node(s)..." before "2 Insufficient cpu".
        Assert.Equal("0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.", tooBig.FailureMessage);
    }

    [Fact]
    public void Random_policy_is_reproducible_by_seed()
    {
        var nodes = Enumerable.Range(0, 50).Select(i => Node($"n{i}", 4000, 8 * Gi)).ToArray();
        var catalog = PolicyCatalog.CreateDefault();
        string?[] Run(int seed)
        {
            var cluster = Of(nodes);
            var scheduler = new ProfileScheduler(catalog.Create("random"));
            var random = new Random(seed);
            return Enumerable.Range(0, 20).Select(i => scheduler.Schedule(cluster, Pod($"p{i}", 100), random).NodeName).ToArray();
        }
        Assert.Equal(Run(3), Run(3));
        Assert.NotEqual(Run(3), Run(4));
    }
}
