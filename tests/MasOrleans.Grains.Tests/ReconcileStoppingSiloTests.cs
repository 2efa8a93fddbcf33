using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The reconciliation frees a reservation no pod owns by releasing it on its node; a node grain whose silo began to stop
/// refuses the release (as every node write then). Disposing fails on any Warning or Error the silo logged.
/// </summary>
public sealed class ReconcileStoppingSiloTests() : OwnClusterTest(
    settings: new Dictionary<string, string?> { ["Scheduler:QueueShards"] = "1", ["Scheduler:ReconcileSeconds"] = "1" },
    recorded: LogLevel.Information)
{
    /// <summary>
    /// Failed before: the refused release was thrown out of the reconciliation timer, which Orleans logs as a failed
    /// timer tick. It is left to the next pass now (at the node's next activation), said at Information.
    /// </summary>
    [Fact]
    public async Task An_orphaned_reservation_on_a_stopping_silos_node_is_left_to_the_next_pass()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("rs-node");
        Assert.True((await node.Register(NodeSpecOf("rs-node"))).IsOk);
        // No pod of the name exists: the reservation is no one's.
        Assert.True((await node.Reserve(PodOf("rs-orphan"), GpuAllocation.None)).Reserved);
        var services = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress);
        var view = services.GetRequiredService<SiloClusterView>();
        await WaitUntil(() => Task.FromResult(view.Reservations(_ => true).Any(r => r.Pod == "rs-orphan")), "the view's reservation");
        services.GetRequiredService<SiloStopping>().Begin();

        await WaitUntil(() => Task.FromResult(Log.Records.Any(r => r.Level == LogLevel.Information
            && r.Message.StartsWith("Reconciliation leaves node rs-node's orphaned reservation for pod rs-orphan", StringComparison.Ordinal))), "the release left to the next pass");
        Assert.Equal(["rs-orphan"], await Bindings.Stored("rs-node"));
    }
}
