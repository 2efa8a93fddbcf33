using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Grains;
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
}
