using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A scheduler's reservations on a node grain of another silo (<see cref="NodeReserver"/>): once the node's silo is
/// known from an answer, concurrent ones cross in batches through that silo's <see cref="INodeReservationService"/>,
/// and each gets the answer its own call would have had.
/// </summary>
public sealed class NodeReservationBatchTests : IAsyncLifetime
{
    private readonly SiloLog _log = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(2, _log, new OutageNodeBindingStore());
        await _cluster.DeployAsync();
        await _cluster.WaitForLivenessToStabilizeAsync();
    }

    public async Task DisposeAsync()
    {
        _log.Expect(SiloLog.SiblingStopped);
        var unexpected = _log.Unexpected();
        await _cluster.DisposeAsync();
        Assert.True(unexpected.Count == 0, SiloLog.Describe(unexpected, _log.Records));
    }

    private NodeReserver ReserverOn(SiloAddress silo) => _cluster.GetSiloServiceProvider(silo).GetRequiredService<NodeReserver>();

    [Fact]
    public async Task Concurrent_reservations_from_another_silo_cross_in_batches_and_each_gets_its_own_answer()
    {
        var node = _cluster.Client.GetGrain<INodeGrain>("batched-node");
        // 10 cpus: 1 for the probe below and 9 for the 30 one-cpu pods that race for it.
        Assert.True((await node.Register(new NodeSpec { Name = "batched-node", Capacity = ResourceVector.Of(cpuMilli: 10_000, memoryBytes: 64L << 30) })).IsOk);
        var probe = await node.Reserve(PodOf("probe"), GpuAllocation.None);
        Assert.True(probe.Reserved);
        var host = probe.Host ?? throw new InvalidOperationException("the node grain did not say where it lives");
        var other = _cluster.Silos.Select(s => s.SiloAddress).Single(s => !s.Equals(host));
        var reserver = ReserverOn(other);

        // The first reservation from the other silo goes straight to the grain and learns its silo; the rest race.
        Assert.True((await reserver.Reserve("batched-node", PodOf("first"), GpuAllocation.None)).Reserved);
        Assert.Equal(0, reserver.ReservationsSent);
        var names = Enumerable.Range(0, 30).Select(i => $"racer-{i}").ToList();
        // One pod twice: the node holds it once and both answers say reserved (Reserve is idempotent for a pod it holds).
        var requests = names.Append(names[3]).ToList();
        var answers = await Task.WhenAll(requests.Select(n => reserver.Reserve("batched-node", PodOf(n), GpuAllocation.None))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(requests.Count, reserver.ReservationsSent);
        Assert.True(reserver.BatchesSent < reserver.ReservationsSent / 2, $"{reserver.BatchesSent} batches for {reserver.ReservationsSent} reservations");
        Assert.All(answers, a => Assert.Equal(host, a.Host));
        var reserved = requests.Zip(answers).Where(x => x.Second.Reserved).Select(x => x.First).ToHashSet();
        Assert.Equal(8, reserved.Count);
        var twice = requests.Zip(answers).Where(x => x.First == names[3]).Select(x => x.Second.Reserved).ToList();
        Assert.Equal(twice[0], twice[1]);
        Assert.All(requests.Zip(answers).Where(x => !x.Second.Reserved), x => Assert.Equal("resources or devices no longer free", x.Second.Reason));
        // What each answer said is what the node holds: answers were not swapped between the pods of a batch.
        var held = (await node.GetView())!.Pods.Select(p => p.Pod.Name).ToHashSet();
        Assert.Equal(reserved.Append("probe").Append("first").ToHashSet(), held);
    }
}
