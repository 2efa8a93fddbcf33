using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Model;
using static MasOrleans.Grains.Tests.GrainTestPods;
using static MasOrleans.Grains.Tests.OwnClusterViews;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A re-read of a node wakes the waiting pods (SiloClusterView.CapacityAppeared, every shard's unschedulable pods tried
/// again) only when it brought the view something it did not have. The silo re-reads every node every 30 s; each such read
/// woke them, so an unschedulable pod was retried every 30 s with no cluster event (docs/control-loops.md: no busy
/// polling, a pod no event woke waits MaxInUnschedulableSeconds). The view here is the test's own, not fed.
/// </summary>
public sealed class ClusterViewWakeTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    [Fact]
    public async Task A_re_read_of_an_unchanged_node_wakes_no_waiting_pod_and_one_that_brings_freed_room_does()
    {
        const string name = "g-wake";
        await RegisterNodes(fixture.Client, name);
        var view = await StartedView(fixture.Client, TimeSpan.FromMinutes(10), name);
        var woken = 0;
        view.CapacityAppeared += () => Interlocked.Increment(ref woken);

        await view.Resync(name);
        await view.Resync(name);
        Assert.Equal(0, woken);

        // The node took a pod and freed it again, changes this view never heard of: the re-read brings them.
        var grain = fixture.Client.Reference<INodeGrain>(name);
        Assert.True((await grain.Reserve(PodOf("w-missed"), GpuAllocation.None)).Reserved);
        Assert.True(await grain.Release("w-missed"));
        await view.Resync(name);
        Assert.Equal(1, woken);
    }

    [Fact]
    public async Task A_renewal_that_brings_a_new_default_policy_wakes_the_waiting_pods_and_one_that_does_not_wakes_none()
    {
        const string name = "g-wake-policy";
        await RegisterNodes(fixture.Client, name);
        var view = await StartedView(fixture.Client, TimeSpan.FromMinutes(10), name);
        var woken = 0;
        view.CapacityAppeared += () => Interlocked.Increment(ref woken);

        await view.Reconcile(new ClusterMembership([name], "kube"));
        Assert.Equal(0, woken);

        // After an index failover the new activation has no observers: the policy a PUT set reaches views only here.
        await view.Reconcile(new ClusterMembership([name], "fgd"));
        Assert.Equal(1, woken);
        Assert.Equal("fgd", view.DefaultPolicy);
    }

    /// <summary>
    /// Room held in the view alone and freed there (no node change tells of it) wakes the waiting pods, as kube's
    /// handleBindingCycleError (pkg/scheduler/schedule_one.go) does on forgetting an assumed pod: a refused reservation
    /// forgets the cycle's assumption, and a deleted pod's assumption goes.
    /// </summary>
    [Fact]
    public async Task A_forgotten_assumption_and_a_deleted_pods_assumption_wake_the_waiting_pods()
    {
        const string name = "g-wake-forget";
        await RegisterNodes(fixture.Client, name);
        var view = await StartedView(fixture.Client, TimeSpan.FromMinutes(10), name);
        var woken = 0;
        view.CapacityAppeared += () => Interlocked.Increment(ref woken);
        IClusterSnapshotSource source = view;

        Assert.True(await view.WithCluster(s => s.Cluster.TryBind(s.Cluster.IndexOf(name), PodOf("w-refused"), GpuAllocation.None)));
        Assert.True(await source.ForgetAssumption("w-refused"));
        Assert.Equal(1, woken);
        Assert.False(await source.ForgetAssumption("w-refused"));
        Assert.Equal(1, woken);

        Assert.True(await view.WithCluster(s => s.Cluster.TryBind(s.Cluster.IndexOf(name), PodOf("w-deleted"), GpuAllocation.None)));
        view.ForgetAssumed("w-deleted");
        Assert.Equal(2, woken);
        view.ForgetAssumed("w-deleted");
        Assert.Equal(2, woken);
    }
}
