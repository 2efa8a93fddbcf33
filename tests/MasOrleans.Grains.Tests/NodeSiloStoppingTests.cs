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
public sealed class NodeSiloStoppingTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public async Task A_node_grain_on_a_stopping_silo_stores_no_new_reservation()
    {
        var node = fixture.Client.GetGrain<INodeGrain>("ns-node");
        Assert.True((await node.Register(NodeSpecOf("ns-node"))).IsOk);
        Assert.True((await node.Reserve(PodOf("ns-before"), GpuAllocation.None)).Reserved);

        fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>().Begin();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => node.Reserve(PodOf("ns-after"), GpuAllocation.None));
        Assert.Contains("its silo is stopping", refused.Message);
        Assert.Equal(["ns-before"], await fixture.Bindings.Stored("ns-node"));
        Assert.Equal(["ns-before"], (await node.GetView())!.Pods.Select(p => p.Pod.Name));
    }
}
