using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>Kept per-node results: valid until their node changes, new nodes unstamped, least recently used keys dropped.</summary>
public class NodeStampedResultsTests
{
    private static ClusterState TwoNodes()
    {
        var cluster = new ClusterState();
        cluster.AddNode(TestCluster.Node("a", 8000, 16 * TestCluster.Gi));
        cluster.AddNode(TestCluster.Node("b", 8000, 16 * TestCluster.Gi));
        return cluster;
    }

    [Fact]
    public void A_result_is_valid_until_its_node_changes_and_only_its_node()
    {
        var cluster = TwoNodes();
        var results = new NodeStampedResults<string, int>(4);
        var entry = results.For(cluster, "small");
        Assert.False(entry.TryGet(cluster, 0, out _));
        entry.Set(cluster, 0, 10);
        entry.Set(cluster, 1, 11);

        var pod = new PodSpec { Name = "p", Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: TestCluster.Gi) };
        Assert.True(cluster.TryBind(0, pod, GpuAllocation.None));

        Assert.False(entry.TryGet(cluster, 0, out _));
        Assert.True(entry.TryGet(cluster, 1, out var kept));
        Assert.Equal(11, kept);
        cluster.Unbind("p"); // back to the same resources, but a new version: still stale
        Assert.False(entry.TryGet(cluster, 0, out _));
    }

    [Fact]
    public void A_node_added_later_starts_without_a_result()
    {
        var cluster = TwoNodes();
        var results = new NodeStampedResults<string, int>(4);
        results.For(cluster, "small").Set(cluster, 1, 11);
        cluster.AddNode(TestCluster.Node("c", 8000, 16 * TestCluster.Gi));

        var entry = results.For(cluster, "small");

        Assert.False(entry.TryGet(cluster, 2, out _));
        Assert.True(entry.TryGet(cluster, 1, out var kept) && kept == 11);
    }

    [Fact]
    public void Past_the_bound_the_least_recently_used_key_is_dropped()
    {
        var cluster = TwoNodes();
        var results = new NodeStampedResults<string, int>(2);
        results.For(cluster, "a").Set(cluster, 0, 1);
        results.For(cluster, "b").Set(cluster, 0, 2);
        results.For(cluster, "a"); // "a" used after "b"

        results.For(cluster, "c"); // a third key: "b" goes

        Assert.True(results.For(cluster, "a").TryGet(cluster, 0, out var a) && a == 1);
        Assert.False(results.For(cluster, "b").TryGet(cluster, 0, out _));
    }

    [Fact]
    public void Another_cluster_built_alike_does_not_see_the_first_ones_results()
    {
        var (first, second) = (TwoNodes(), TwoNodes());
        Assert.Equal(first.NodeVersion(0), second.NodeVersion(0)); // alike: a stamp alone cannot tell them apart
        var results = new NodeStampedResults<string, int>(4);
        results.For(first, "small").Set(first, 0, 10);

        Assert.False(results.For(second, "small").TryGet(second, 0, out _));
        Assert.False(results.For(first, "small").TryGet(first, 0, out _)); // and the switch back starts afresh too
    }
}
