using MasOrleans.Scheduling.Cluster;
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
    public void A_held_pod_fits_alongside_only_where_the_other_pod_leaves_it_room()
    {
        // Two devices, 500m of device 0 taken. A whole-GPU pod is held; a 500m share leaves it device 1 only when the
        // share goes to device 0. By the sums alone (1500m free >= 1000m + 500m) both choices would look fine.
        var cluster = Of(Node("n1", 4000, 8 * Gi, gpus: 2));
        Assert.True(cluster.TryBind(0, Pod("half", gpuMilli: 500), new GpuAllocation([0], 500)));
        var held = Pod("held", 1000, gpuMilli: 1000);
        var share = Pod("share", 1000, gpuMilli: 500);
        Assert.True(cluster.FitsAlongside(0, [held], share, new GpuAllocation([0], 500)));
        Assert.False(cluster.FitsAlongside(0, [held], share, new GpuAllocation([1], 500)));
        // Non-GPU dimensions add up: 4 cpus hold 1 + 1 but not 1 + 3.5.
        Assert.False(cluster.FitsAlongside(0, [held], Pod("big", 3500), GpuAllocation.None));
        // And the pod count: room for one more pod is not room for two.
        var tight = Of(Node("n2", 4000, 8 * Gi) with { MaxPods = 1 });
        Assert.True(tight.FitsResources(0, Pod("one", 100)));
        Assert.False(tight.FitsAlongside(0, [Pod("one", 100)], Pod("two", 100), GpuAllocation.None));
        // Nothing was bound by asking.
        Assert.Equal(1, cluster.PodCount);
    }

    /// <summary>
    /// Several held pods all count (kube adds every nominated pod of equal or higher priority, addGeneralNominatedPods in
    /// pkg/scheduler/framework/runtime/framework.go). Two devices, 300m of device 0 taken: holds of 600m and 500m go on
    /// device 0 (700m left) and device 1; a 400m share on device 1 leaves it 600m, so the 500m hold still fits there and
    /// the 600m one on device 0. A 600m share on device 1 leaves 400m: one of the two holds has no device.
    /// </summary>
    [Fact]
    public void Every_held_pod_must_fit_alongside_the_pod()
    {
        var cluster = Of(Node("n1", 4000, 8 * Gi, gpus: 2));
        Assert.True(cluster.TryBind(0, Pod("taken", gpuMilli: 300), new GpuAllocation([0], 300)));
        PodSpec[] held = [Pod("held-600", 1000, gpuMilli: 600), Pod("held-500", 1000, gpuMilli: 500)];

        Assert.True(cluster.FitsAlongside(0, held, Pod("share-400", 1000, gpuMilli: 400), new GpuAllocation([1], 400)));
        Assert.False(cluster.FitsAlongside(0, held, Pod("share-600", 1000, gpuMilli: 600), new GpuAllocation([1], 600)));
        // cpu adds up over every hold: 1 + 1 + 2 fits 4 cpus, 1 + 1 + 2.5 does not.
        Assert.True(cluster.FitsAlongside(0, held, Pod("cpu-2", 2000), GpuAllocation.None));
        Assert.False(cluster.FitsAlongside(0, held, Pod("cpu-2.5", 2500), GpuAllocation.None));
    }

    [Fact]
    public void A_node_added_with_its_records_binds_what_fits_and_reports_what_does_not()
    {
        var cluster = new ClusterState();
        BoundPod Bound(string name, long cpu) => new(Pod(name, cpu), GpuAllocation.None);
        var misfits = new List<string>();
        var node = cluster.AddNode(Node("n1", 2000, 1 * Gi), [Bound("a", 1500), Bound("b", 1000), Bound("c", 500)], ready: false,
            images: ["nginx:1.27"], misfit: b => misfits.Add(b.Pod.Name));
        Assert.Equal(["b"], misfits);
        Assert.Equal(["a", "c"], cluster.Pods[node].Select(p => p.Pod.Name));
        Assert.False(cluster.Ready[node]);
        Assert.Equal(1, cluster.NodesWithImage("nginx:1.27"));
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

    /// <summary>
    /// A binding record given to the cluster is the one it keeps, as its nodes' pods and in its copies: a node grain and a
    /// silo's view, which keep the record as well, then hold one per pod, not one each (scripts/pod-heap.sh).
    /// </summary>
    [Fact]
    public void A_bound_pod_record_is_kept_as_given_and_shared_by_a_copy()
    {
        var cluster = Of(Node("n1", 1000, 1 * Gi));
        var bound = new BoundPod(Pod("a", 600), GpuAllocation.None, DateTimeOffset.UnixEpoch);
        Assert.False(cluster.TryBind(0, new BoundPod(Pod("b", 1600), GpuAllocation.None)));
        Assert.True(cluster.TryBind(0, bound));
        Assert.Same(bound, Assert.Single(cluster.PodsOn(0)));
        Assert.Same(bound, Assert.Single(cluster.Clone().PodsOn(0)));
        Assert.Equal(600, cluster.Allocated[0][0]);
    }

    /// <summary>
    /// A node's confirmation of a pod a cycle assumed: the view keeps the node's record itself (its record of the node holds
    /// it too), with its bind time; a confirmation without a bind time keeps the one already known, on a copy.
    /// </summary>
    [Fact]
    public void A_confirmed_binding_keeps_the_nodes_record_unless_it_would_lose_the_bind_time()
    {
        var cluster = Of(Node("n1", 1000, 1 * Gi));
        Assert.True(cluster.TryBind(0, Pod("a", 600), GpuAllocation.None));
        var stamped = new BoundPod(Pod("a", 600), GpuAllocation.None, DateTimeOffset.UnixEpoch);
        Assert.False(cluster.Confirm(stamped));
        Assert.Same(stamped, Assert.Single(cluster.PodsOn(0)));

        var unstamped = stamped with { BoundAt = null };
        Assert.False(cluster.Confirm(unstamped));
        Assert.Equal(DateTimeOffset.UnixEpoch, Assert.Single(cluster.PodsOn(0)).BoundAt);
        Assert.True(cluster.Unbind("a"));
        Assert.Equal(0, cluster.Allocated[0][0]);
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
