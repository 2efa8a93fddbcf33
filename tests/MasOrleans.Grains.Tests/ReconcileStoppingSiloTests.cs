using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
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
    protected override void Configure(ISiloBuilder silo) => silo.Services.AddSingleton<IIncomingGrainCallFilter>(new BrokenRelease());

    /// <summary>Breaks every release on <see cref="BrokenNode"/> as a call to a silo that went away would (no refusal named).</summary>
    private sealed class BrokenRelease : IIncomingGrainCallFilter
    {
        public Task Invoke(IIncomingGrainCallContext context) =>
            context.InterfaceMethod is { Name: nameof(INodeGrain.Release) } method && method.DeclaringType == typeof(INodeGrain)
                && context.TargetId.Key.ToString() == BrokenNode
                ? throw new SiloUnavailableException("silo gone (test)")
                : context.Invoke();
    }

    private const string BrokenNode = "rs-broken-node";

    /// <summary>
    /// Failed before: every broken release was left to the next pass at Information, as if the node's silo were
    /// stopping. Only a refusal naming a stopping silo is; any other break is a Warning.
    /// </summary>
    [Fact]
    public async Task A_broken_release_of_an_orphaned_reservation_is_a_warning()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>(BrokenNode);
        Assert.True((await node.Register(NodeSpecOf(BrokenNode))).IsOk);
        Assert.True((await node.Reserve(PodOf("rs-broken-orphan"), GpuAllocation.None)).Reserved);
        const string warning = "Reconciliation could not release node rs-broken-node's orphaned reservation for pod rs-broken-orphan";
        Log.Expect(warning);

        await WaitUntil(() => Task.FromResult(Log.Records.Any(r => r.Level == LogLevel.Warning && r.Message.StartsWith(warning, StringComparison.Ordinal))), "the broken release's Warning");
        Assert.DoesNotContain(Log.Records, r => r.Message.StartsWith("Reconciliation leaves node rs-broken-node", StringComparison.Ordinal));
    }
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
