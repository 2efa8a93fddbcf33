using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Services;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A scheduler's reservations on a node grain of another silo (<see cref="NodeReserver"/>): once the node's silo is
/// known from an answer, concurrent ones cross in batches through that silo's <see cref="INodeReservationService"/>,
/// and each gets the answer its own call would have had.
/// </summary>
public sealed class NodeReservationBatchTests() : OwnClusterTest(silos: 2)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Cluster.WaitForLivenessToStabilizeAsync();
    }

    public override Task DisposeAsync()
    {
        Log.ExpectSiblingStopped();
        return base.DisposeAsync();
    }

    private NodeReserver ReserverOn(SiloAddress silo) => Cluster.GetSiloServiceProvider(silo).GetRequiredService<NodeReserver>();

    private NodeReservationService ServiceOn(SiloAddress silo) =>
        Cluster.GetSiloServiceProvider(silo).GetServices<IGrainService>().OfType<NodeReservationService>().Single();

    /// <summary>A registered node of 10 cpus, and the reserver of the silo its grain does not live on.</summary>
    private async Task<(INodeGrain Node, SiloAddress Host, NodeReserver Reserver)> NodeOnTheOtherSilo(string name)
    {
        var node = Cluster.Client.GetGrain<INodeGrain>(name);
        Assert.True((await node.Register(new NodeSpec { Name = name, Capacity = ResourceVector.Of(cpuMilli: 10_000, memoryBytes: 64L << 30) })).IsOk);
        // Straight to the grain (no silo's reserver learns from it): its answer names its silo.
        var probe = await node.Reserve(PodOf($"{name}-probe"), GpuAllocation.None);
        Assert.True(probe.Reserved);
        var host = probe.Host ?? throw new InvalidOperationException("the node grain did not say where it lives");
        return (node, host, ReserverOn(Cluster.Silos.Select(s => s.SiloAddress).Single(s => !s.Equals(host))));
    }

    [Fact]
    public async Task Concurrent_reservations_from_another_silo_cross_in_batches_and_each_gets_its_own_answer()
    {
        // 10 cpus: 1 for the probe, 1 for the first pod and 8 for the 30 one-cpu pods that race for them.
        var (node, host, reserver) = await NodeOnTheOtherSilo("batched-node");

        // The first reservation from the other silo goes straight to the grain and learns its silo; the rest race.
        Assert.True((await reserver.Reserve("batched-node", PodOf("first"), GpuAllocation.None)).Reserved);
        Assert.Equal(0, reserver.ReservationsSent);
        var names = Enumerable.Range(0, 30).Select(i => $"racer-{i}").ToList();
        // One pod twice: the node holds it at most once and both answers agree (Reserve is idempotent for a pod it holds).
        var requests = names.Append(names[3]).ToList();
        var answers = await Task.WhenAll(requests.Select(n => reserver.Reserve("batched-node", PodOf(n), GpuAllocation.None))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(requests.Count, reserver.ReservationsSent);
        // To the node grain's silo, where its calls are local; none to the sender's own service.
        Assert.Equal(requests.Count, ServiceOn(host).Received);
        Assert.Equal(0, ServiceOn(Cluster.Silos.Select(s => s.SiloAddress).Single(s => !s.Equals(host))).Received);
        Assert.True(reserver.BatchesSent < reserver.ReservationsSent / 2, $"{reserver.BatchesSent} batches for {reserver.ReservationsSent} reservations");
        Assert.All(answers, a => Assert.Equal(host, a.Host));
        var reserved = requests.Zip(answers).Where(x => x.Second.Reserved).Select(x => x.First).ToHashSet();
        Assert.Equal(8, reserved.Count);
        var twice = requests.Zip(answers).Where(x => x.First == names[3]).Select(x => x.Second.Reserved).ToList();
        Assert.Equal(twice[0], twice[1]);
        Assert.All(requests.Zip(answers).Where(x => !x.Second.Reserved), x => Assert.Equal("resources or devices no longer free", x.Second.Reason));
        // What each answer said is what the node holds: answers were not swapped between the pods of a batch.
        var held = (await node.GetView())!.Pods.Select(p => p.Pod.Name).ToHashSet();
        Assert.Equal(reserved.Append("batched-node-probe").Append("first").ToHashSet(), held);
    }

    [Fact]
    public async Task A_failed_batched_reservation_reaches_its_caller_and_the_next_goes_straight_to_the_node_until_it_answers()
    {
        // While the node's store is down its write-again timer fails each tick (the outage tests expect the same).
        Log.Expect("exception thrown from timer callback.*mas-node/outage-node");
        var (_, host, reserver) = await NodeOnTheOtherSilo("outage-node");
        Assert.True((await reserver.Reserve("outage-node", PodOf("learns"), GpuAllocation.None)).Reserved);
        Assert.True((await reserver.Reserve("outage-node", PodOf("batched"), GpuAllocation.None)).Reserved);
        Assert.Equal(1, reserver.ReservationsSent);

        Bindings.Fail("outage-node", failedAddsLand: false);
        // The node grain's own exception, carried back through the batch to this caller alone.
        var error = await Assert.ThrowsAsync<TimeoutException>(() => reserver.Reserve("outage-node", PodOf("during"), GpuAllocation.None));
        Assert.Contains("simulated outage of the binding store for node outage-node", error.Message);
        Assert.Equal(2, reserver.ReservationsSent);
        Assert.False(reserver.KnowsHostOf("outage-node"));

        Bindings.Recover("outage-node");
        // Until the node has written itself again it refuses with a TimeoutException; each try goes straight to it.
        Reservation? after = null;
        await WaitUntil(async () =>
        {
            try
            {
                after = await reserver.Reserve("outage-node", PodOf("after"), GpuAllocation.None);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }, "the node answers again");
        Assert.True(after!.Reserved);
        Assert.Equal(host, after.Host);
        Assert.Equal(2, reserver.ReservationsSent);
        Assert.True((await reserver.Reserve("outage-node", PodOf("batched-again"), GpuAllocation.None)).Reserved);
        Assert.Equal(3, reserver.ReservationsSent);
    }

    [Fact]
    public async Task A_deleted_node_names_no_silo_and_the_reserver_forgets_where_it_was()
    {
        var (node, _, reserver) = await NodeOnTheOtherSilo("deleted-node");
        Assert.True(await node.Release("deleted-node-probe"));
        Assert.True((await reserver.Reserve("deleted-node", PodOf("learns"), GpuAllocation.None)).Reserved);
        Assert.True(await node.Release("learns"));
        Assert.True(reserver.KnowsHostOf("deleted-node"));

        Assert.True((await node.Delete(force: true)).Outcome.Code is OutcomeCode.Ok or OutcomeCode.Accepted);
        await WaitUntil(async () => await node.GetView() is null, "the node is removed");
        var refused = await reserver.Reserve("deleted-node", PodOf("late"), GpuAllocation.None);
        Assert.False(refused.Reserved);
        Assert.Equal("node no longer exists", refused.Reason);
        Assert.Null(refused.Host);
        Assert.False(reserver.KnowsHostOf("deleted-node"));
    }
}
