using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Scores;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

public class KubeScoreTests
{
    [Fact]
    public void LeastAllocated_matches_hand_computation()
    {
        // Node 4000m / 10000Mi with 1000m / 2000Mi used; pod asks 1000m / 2000Mi.
        // cpu: (4000-2000)*100/4000 = 50; memory: (10000-4000)*100/10000 = 60; mean (50+60)/2 = 55.
        var cluster = Of(Node("n1", 4000, 10000 * Mi));
        Assert.True(cluster.TryBind(0, Pod("old", 1000, 2000 * Mi), Model.GpuAllocation.None));
        var ctx = new SchedulingContext(cluster, Pod("new", 1000, 2000 * Mi), new Random(1));
        Assert.Equal(55, new NodeResourcesFitScore().Score(ctx, 0));
    }

    [Fact]
    public void LeastAllocated_uses_non_zero_defaults_for_pods_without_requests()
    {
        // Pod with no requests counts as 100m / 200Mi: cpu (1000-100)*100/1000 = 90; memory (1000-200)*100/1000 = 80 -> 85.
        var cluster = Of(Node("n1", 1000, 1000 * Mi));
        var ctx = new SchedulingContext(cluster, Pod("empty"), new Random(1));
        Assert.Equal(85, new NodeResourcesFitScore().Score(ctx, 0));
    }

    [Fact]
    public void BalancedAllocation_matches_hand_computation()
    {
        // Fractions cpu 3000/4000 = 0.75, memory 5000/10000 = 0.5; std = 0.125; score = int64(87.5) = 87.
        var cluster = Of(Node("n1", 4000, 10000 * Mi));
        var ctx = new SchedulingContext(cluster, Pod("p", 3000, 5000 * Mi), new Random(1));
        Assert.Equal(87, new BalancedAllocationScore().Score(ctx, 0));
    }

    [Fact]
    public void Zero_capacity_node_scores_zero()
    {
        var cluster = Of(Node("n1", 0, 0));
        var ctx = new SchedulingContext(cluster, Pod("p", 100, 100 * Mi), new Random(1));
        Assert.Equal(0, new NodeResourcesFitScore().Score(ctx, 0));
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(5000, 10)]
    [InlineData(10000, 5)]
    [InlineData(50000, 5)]
    public void Adaptive_percentage_of_nodes_to_score(int nodes, int expectedPercentOrAll)
    {
        var expected = nodes < 100 ? nodes : Math.Max(100, nodes * expectedPercentOrAll / 100);
        Assert.Equal(expected, ProfileScheduler.NumFeasibleNodesToFind(0, nodes));
    }
}
