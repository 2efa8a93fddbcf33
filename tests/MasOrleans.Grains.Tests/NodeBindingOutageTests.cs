using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A node grain whose binding writes fail (Redis down): once the store answers again it holds exactly what the
/// node's memory holds, and a fresh activation (a silo restart) reads that back.
/// </summary>
public sealed class NodeBindingOutageTests : IClassFixture<GrainClusterFixture>, IDisposable
{
    private readonly GrainClusterFixture _fixture;

    public NodeBindingOutageTests(GrainClusterFixture fixture)
    {
        _fixture = fixture;
        // The node's write-again timer fails while the store is down, and a release it could not store is noted.
        fixture.Log.Expect("exception thrown from timer callback.*mas-node/g-outage-");
        fixture.Log.Expect("Node g-outage-[a-z-]+ released pod .* but could not store the release");
        fixture.Log.Expect("Node g-outage-drain is drained but could not be removed; tried again in a second");
        fixture.Log.Expect("Scheduling cycle for pod outage-cycle-\\d+ failed; queued again after backoff");
        // Orleans notes the node's write-again timer failing as a failed one-way call as well, when the outage outlasts it.
        fixture.Log.Expect("Exception during Grain method call of message OneWay .*mas-node/g-outage-cycles.*GrainTimer");
    }

    /// <summary>
    /// Every cycle fails while a node's store is down: the shard logs the first failure with its exception and each
    /// further one as a line naming its pod (a stack per pod made a 20 s Redis outage 1,490 lines), and places them all
    /// once the store answers.
    /// </summary>
    [Fact]
    public async Task Cycles_failing_in_an_outage_log_one_stack_then_a_line_per_pod_and_place_the_pods_once_it_ends()
    {
        const string name = "g-outage-cycles";
        var pool = new Dictionary<string, string> { ["pool"] = "outage-cycles" };
        var node = _fixture.Client.GetGrain<INodeGrain>(name);
        Assert.True((await node.Register(new NodeSpec { Name = name, Capacity = ResourceVector.Of(cpuMilli: 8000, memoryBytes: 16L << 30), Labels = pool })).IsOk);
        _fixture.Bindings.Fail(name, failedAddsLand: false);
        // Pods of one queue shard: the run is the shard's.
        var shards = new SchedulerOptions().QueueShards;
        var pods = Enumerable.Range(0, 200).Select(i => $"outage-cycle-{i}").Where(n => QueueShards.Of(n, shards) == QueueShards.Of("outage-cycle-0", shards)).Take(4).ToList();
        Assert.Equal(4, pods.Count);
        foreach (var pod in pods)
            Assert.True((await _fixture.Client.GetGrain<IPodGrain>(pod).Create(PodOf(pod) with { NodeSelector = pool }, null)).Outcome.IsOk);

        List<SiloLog.LogRecord> Failures() => [.. _fixture.Log.Records.Where(r => r.Message.StartsWith("Scheduling cycle for pod outage-cycle-", StringComparison.Ordinal))];
        await WaitUntil(() => Task.FromResult(pods.All(p => Failures().Any(r => r.Message.Contains($"pod {p} failed", StringComparison.Ordinal)))), "a failed cycle for each pod");
        var failures = Failures();
        var first = Assert.Single(failures, r => r.Exception is not null);
        Assert.Same(failures[0], first);
        Assert.All(failures.Skip(1), r => Assert.Contains("TimeoutException", r.Message));

        _fixture.Bindings.Recover(name);
        foreach (var pod in pods)
            await WaitUntil(async () => await _fixture.Client.GetGrain<IPodGrain>(pod).Get() is { Phase: PodPhase.Running, NodeName: name }, $"{pod} running on {name}");
    }

    [Fact]
    public async Task A_drained_node_whose_removal_the_store_refused_is_removed_once_it_answers()
    {
        const string name = "g-outage-drain";
        var node = await Registered(name);
        Assert.True((await node.Reserve(PodOf("last"), GpuAllocation.None)).Reserved);
        // Draining: cordoned, its one pod asked to leave (no pod grain here, so the test releases it itself).
        Assert.Equal(OutcomeCode.Accepted, (await node.Delete(force: true)).Outcome.Code);

        _fixture.Bindings.Fail(name, failedAddsLand: false);
        // The release stands (the pod is gone) though the node could not be removed: nothing for the caller to retry.
        Assert.True(await node.Release("last"));
        var draining = await node.GetView();
        Assert.True(draining is { Draining: true, Pods.Count: 0 }, "the node should still be draining, and empty");

        _fixture.Bindings.Recover(name);
        // The drain timer (each second) removes it now.
        await WaitUntil(async () => await node.GetView() is null);
        Assert.Empty(await _fixture.Bindings.Stored(name));
    }

    public void Dispose() => _fixture.Log.AssertClean();

    [Fact]
    public async Task A_release_the_store_did_not_hear_of_is_written_down_once_it_answers()
    {
        const string name = "g-outage-release";
        var node = await Registered(name);
        Assert.True((await node.Reserve(PodOf("kept"), GpuAllocation.None)).Reserved);
        Assert.True((await node.Reserve(PodOf("freed"), GpuAllocation.None)).Reserved);

        _fixture.Bindings.Fail(name, failedAddsLand: false);
        // The pod is gone from the node even though the store missed it; the caller has nothing left to retry.
        Assert.True(await node.Release("freed"));
        Assert.Equal(["kept"], await PodsOf(node));
        Assert.Equal(["freed", "kept"], await _fixture.Bindings.Stored(name));

        _fixture.Bindings.Recover(name);
        await WaitUntil(async () => (await _fixture.Bindings.Stored(name)).SequenceEqual(["kept"]));
        await AssertReadBackAfterRestart(node, ["kept"]);
    }

    [Fact]
    public async Task A_reservation_whose_write_landed_without_an_answer_is_dropped_and_until_the_node_is_written_again_it_writes_nothing_else()
    {
        const string name = "g-outage-doubt";
        var node = await DownAfterReservingBefore(name, failedAddsLand: true, failing: "abandoned");
        // The store is known down: a new reservation fails at once, without a write (each would wait out the client's
        // timeout in the node's turn), and a release is left to the node's write-again.
        var attempts = _fixture.Bindings.AttemptsWhileDown(name);
        var failed = await Assert.ThrowsAsync<TimeoutException>(() => node.Reserve(PodOf("later"), GpuAllocation.None));
        Assert.Contains("takes new pods once Redis has its bindings again", failed.Message);
        Assert.True(await node.Release("before"));
        Assert.Equal(attempts, _fixture.Bindings.AttemptsWhileDown(name));
        Assert.Equal(["abandoned", "before"], await _fixture.Bindings.Stored(name));

        _fixture.Bindings.Recover(name);
        // Written again from memory: less the reservation in doubt (the scheduler placed "abandoned" elsewhere
        // meanwhile) and the release.
        await WaitUntil(async () => (await _fixture.Bindings.Stored(name)).Count == 0);
        Assert.True((await node.Reserve(PodOf("later"), GpuAllocation.None)).Reserved);
        Assert.Equal(["later"], await _fixture.Bindings.Stored(name));
        Assert.Equal(["later"], await PodsOf(node));
        await AssertReadBackAfterRestart(node, ["later"]);
    }

    [Fact]
    public async Task A_reservation_in_doubt_whose_pod_asks_again_once_the_store_answers_is_kept()
    {
        const string name = "g-outage-retried";
        var node = await DownAfterReservingBefore(name, failedAddsLand: false, failing: "retried");
        Assert.Equal(["before"], await _fixture.Bindings.Stored(name));

        _fixture.Bindings.Recover(name);
        // Confirmed if the retry comes before the node is written again, reserved afresh if after: held either way.
        Assert.True((await node.Reserve(PodOf("retried"), GpuAllocation.None)).Reserved);
        await WaitUntil(async () => (await _fixture.Bindings.Stored(name)).SequenceEqual(["before", "retried"]));
        Assert.Equal(["before", "retried"], await PodsOf(node));
        await AssertReadBackAfterRestart(node, ["before", "retried"]);
    }

    private async Task<INodeGrain> Registered(string name)
    {
        var node = _fixture.Client.GetGrain<INodeGrain>(name);
        Assert.True((await node.Register(new NodeSpec { Name = name, Capacity = ResourceVector.Of(cpuMilli: 8000, memoryBytes: 16L << 30) })).IsOk);
        return node;
    }

    /// <summary>
    /// A node holding "before" whose store then goes down, and the reservation of <paramref name="failing"/> that fails
    /// on the write (landing in the store without an answer when <paramref name="failedAddsLand"/>).
    /// </summary>
    private async Task<INodeGrain> DownAfterReservingBefore(string name, bool failedAddsLand, string failing)
    {
        var node = await Registered(name);
        Assert.True((await node.Reserve(PodOf("before"), GpuAllocation.None)).Reserved);
        _fixture.Bindings.Fail(name, failedAddsLand);
        await Assert.ThrowsAnyAsync<Exception>(() => node.Reserve(PodOf(failing), GpuAllocation.None));
        return node;
    }

    /// <summary>A new activation loads its pods from the store: it must find what the old one held in memory.</summary>
    private async Task AssertReadBackAfterRestart(INodeGrain node, string[] expected)
    {
        await _fixture.Cluster.DeactivateAsync(node);
        Assert.Equal(expected, await PodsOf(node));
    }

    private static async Task<IReadOnlyList<string>> PodsOf(INodeGrain node) => [.. (await node.GetView())!.Pods.Select(b => b.Pod.Name)];
}
