using MasOrleans.Scheduling.Model;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

public class ClusterStateTests
{
    [Fact]
    public void Shared_gpu_request_needs_one_device_with_enough_free_share()
    {
        var cluster = Of(Node("n1", 8000, 8 * Gi, gpus: 2));
        Assert.True(cluster.TryBind(0, Pod("a", gpuMilli: 700), new GpuAllocation([0], 700)));
        Assert.True(cluster.TryBind(0, Pod("b", gpuMilli: 700), new GpuAllocation([1], 700)));
        // 600 milli are free in total, but no single device has 400 + 200... each has 300 left.
        var pod = Pod("c", gpuMilli: 400);
        Assert.False(cluster.FitsResources(0, pod));
        Assert.True(cluster.FitsResources(0, Pod("d", gpuMilli: 300)));
    }

    [Fact]
    public void Bind_refuses_overcommit_and_unbind_restores()
    {
        var cluster = Of(Node("n1", 1000, 1 * Gi));
        Assert.True(cluster.TryBind(0, Pod("a", 600), GpuAllocation.None));
        Assert.False(cluster.TryBind(0, Pod("b", 600), GpuAllocation.None));
        Assert.Equal(600, cluster.Allocated[0][0]);
        Assert.True(cluster.Unbind("a"));
        Assert.Equal(0, cluster.Allocated[0][0]);
        Assert.True(cluster.TryBind(0, Pod("b", 600), GpuAllocation.None));
    }

    [Fact]
    public void Bind_refuses_a_device_without_enough_free_milli()
    {
        var cluster = Of(Node("n1", 8000, 8 * Gi, gpus: 1));
        Assert.True(cluster.TryBind(0, Pod("a", gpuMilli: 800), new GpuAllocation([0], 800)));
        Assert.False(cluster.TryBind(0, Pod("b", gpuMilli: 300), new GpuAllocation([0], 300)));
        Assert.Equal(200, cluster.GpuFreeOf(0)[0]);
    }

    [Fact]
    public void Node_version_moves_with_every_change_to_that_node_and_no_other()
    {
        var cluster = Of(Node("a", 8000, 8 * Gi, gpus: 1), Node("b", 8000, 8 * Gi));
        var b = cluster.NodeVersion(1);
        long Step(Action change)
        {
            var before = cluster.NodeVersion(0);
            change();
            Assert.NotEqual(before, cluster.NodeVersion(0));
            Assert.Equal(b, cluster.NodeVersion(1));
            return cluster.NodeVersion(0);
        }
        var seen = new HashSet<long> { cluster.NodeVersion(0), b };
        Assert.True(seen.Add(Step(() => Assert.True(cluster.TryBind(0, Pod("p", 1000, Gi, 500), new GpuAllocation([0], 500))))));
        Assert.True(seen.Add(Step(() => Assert.True(cluster.Unbind("p")))));
        Assert.True(seen.Add(Step(() => cluster.UpdateNode(cluster.Spec(0) with { Unschedulable = true }))));
        Assert.True(seen.Add(Step(() => cluster.SetReady(0, false))));
        // A refused bind changes nothing, so the version stays (caches keyed by it stay valid).
        var version = cluster.NodeVersion(0);
        Assert.False(cluster.TryBind(0, Pod("big", 9000), GpuAllocation.None));
        Assert.False(cluster.Unbind("missing"));
        Assert.Equal(version, cluster.NodeVersion(0));
    }
}
