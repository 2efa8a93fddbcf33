using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A node grain on a silo that has begun a graceful stop: Orleans' directory may already have let the node's next
/// activation start on another silo from Redis, so a reservation this one still stored was missing there (a pod
/// "bound but its node does not hold it" in SiloStopTests). It stores none: the cycle is tried again, and reaches the
/// next activation.
/// </summary>
public sealed class NodeSiloStoppingTests : OwnClusterTest
{
    // A cluster per test: each begins its silo's stop, which no other test may see.

    [Fact]
    public async Task A_node_grain_on_a_stopping_silo_stores_no_new_reservation()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-node");
        Assert.True((await node.Register(NodeSpecOf("ns-node"))).IsOk);
        Assert.True((await node.Reserve(PodOf("ns-before"), GpuAllocation.None)).Reserved);

        Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>().Begin();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => node.Reserve(PodOf("ns-after"), GpuAllocation.None));
        Assert.Contains("its silo is stopping", refused.Message);
        Assert.Equal(["ns-before"], await Bindings.Stored("ns-node"));
        Assert.Equal(["ns-before"], (await node.GetView())!.Pods.Select(p => p.Pod.Name));
    }

    /// <summary>
    /// Failed before: a reservation let in just before the stop began had its binding write still under way, and the
    /// stop went on to tell the cluster: the node's next activation, on another silo, could read Redis before that
    /// write landed, and miss a pod the cycle had bound there (SiloStopTests: a pod held by two nodes). The stop now
    /// waits for such writes (SchedulingSiloService awaits <see cref="SiloStopping.WritesSettled"/>); none starts once
    /// it began.
    /// </summary>
    [Fact]
    public async Task The_stop_waits_for_a_reservation_write_under_way_and_lets_none_start()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-writing-node");
        Assert.True((await node.Register(NodeSpecOf("ns-writing-node"))).IsOk);
        var stopping = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>();
        Bindings.Stall("ns-writing-node");
        var reserving = node.Reserve(PodOf("ns-writing"), GpuAllocation.None);
        await Bindings.Reached("ns-writing-node").WaitAsync(TimeSpan.FromSeconds(10));

        stopping.Begin();
        var settled = stopping.WritesSettled();

        // Its write cannot land while stalled: the stop is held until it does, whatever the time.
        Assert.False(settled.IsCompleted, "the stop went on with a reservation write under way");
        Bindings.Resume("ns-writing-node");
        Assert.True((await reserving).Reserved);
        await settled.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["ns-writing"], await Bindings.Stored("ns-writing-node"));
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => node.Reserve(PodOf("ns-too-late"), GpuAllocation.None));
        Assert.Contains("its silo is stopping", refused.Message);
        Assert.True(stopping.WritesSettled().IsCompleted);
    }
}
