using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A node grain on a silo that has begun a graceful stop: Orleans' directory may already have let the node's next
/// activation start on another silo from Redis, so a reservation this one still stored was missing there (a pod
/// "bound but its node does not hold it" in SiloStopTests). It stores none, and says why: the refusal is part of a
/// graceful stop, so a scheduling cycle it refuses is logged at Information and tried again, never a failed cycle.
/// </summary>
public sealed class NodeSiloStoppingTests : IAsyncLifetime
{
    private readonly SiloLog _log = new(LogLevel.Information);
    private readonly OutageNodeBindingStore _bindings = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, _bindings);
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    [Fact]
    public async Task A_node_grain_on_a_stopping_silo_stores_no_new_reservation()
    {
        var node = _cluster.Client.GetGrain<INodeGrain>("ns-node");
        Assert.True((await node.Register(NodeSpecOf("ns-node"))).IsOk);
        Assert.True((await node.Reserve(PodOf("ns-before"), GpuAllocation.None)).Reserved);

        _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>().Begin();

        var refused = await node.Reserve(PodOf("ns-after"), GpuAllocation.None);
        Assert.True(refused is { Reserved: false, SiloStopping: true }, $"refused for its silo's stop: {refused}");
        Assert.Contains("its silo is stopping", refused.Reason);
        Assert.Equal(["ns-before"], await _bindings.Stored("ns-node"));
        Assert.Equal(["ns-before"], (await node.GetView())!.Pods.Select(p => p.Pod.Name));
    }

    /// <summary>
    /// Failed before: the refusal was an exception like any other, so the shard logged the cycle as failed (Error
    /// event 1203), on the stopping silo and on any other whose cycles chose its nodes. A refusal taken for a conflict
    /// would instead try other nodes and mark the pod Unschedulable; it stays Pending, queued again.
    /// </summary>
    [Fact]
    public async Task A_cycle_refused_by_a_node_on_a_stopping_silo_is_logged_as_information_and_the_pod_waits()
    {
        var node = _cluster.Client.GetGrain<INodeGrain>("ns-cycle-node");
        Assert.True((await node.Register(NodeSpecOf("ns-cycle-node"))).IsOk);
        var services = _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress);
        // The silo's view knows the node (ready), so the cycle chooses it rather than finding no node.
        await WaitUntil(() => Task.FromResult(services.GetRequiredService<SiloClusterView>().Node("ns-cycle-node") is { Ready: true }), "the view's node");
        services.GetRequiredService<SiloStopping>().Begin();

        Assert.True((await _cluster.Client.GetGrain<IPodGrain>("ns-cycle").Create(PodOf("ns-cycle"), null)).Outcome.IsOk);

        await WaitUntil(() => Task.FromResult(_log.Records.Any(r => r.Level == LogLevel.Information
            && r.Message.StartsWith("Scheduling cycle for pod ns-cycle refused by a node on a stopping silo", StringComparison.Ordinal))), "the refused cycle logged");
        Assert.Equal(PodPhase.Pending, (await _cluster.Client.GetGrain<IPodGrain>("ns-cycle").Get())!.Phase);
        Assert.Empty(await _bindings.Stored("ns-cycle-node"));
    }
}
