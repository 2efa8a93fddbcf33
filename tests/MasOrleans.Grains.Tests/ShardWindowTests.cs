using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A queue shard whose in-flight window is full while a pod's backoff expires: the pod waits for room, and the cycles
/// in the window finish as soon as their calls answer. (The shard once armed its backoff timer with no delay for the
/// expired pod, and each tick armed the next: the ticks took every turn, the cycles' answers were never processed, and
/// the window's pods waited for the in-flight timeout, a whole shard at a time, in fresh-clone runs of LoadTests.)
/// </summary>
public sealed class ShardWindowTests() : OwnClusterTest(settings: new Dictionary<string, string?>
{
    // One shard with room for one cycle: the window is full while one reservation write is stalled.
    ["Scheduler:QueueShards"] = "1",
    ["Scheduler:MaxInFlight"] = "1",
    ["Scheduler:InitialBackoffMilliseconds"] = $"{BackoffMilliseconds}",
    ["Scheduler:MaxBackoffMilliseconds"] = $"{BackoffMilliseconds}",
    // The sweep (every third of this: 20 minutes) neither rescues the window's cycle nor starts the next one within the
    // test, however slow the machine: only the cycle's own completion can. Abandoning a cycle also logs a warning, which
    // fails the test.
    ["Scheduler:InFlightTimeoutSeconds"] = "3600",
})
{
    /// <summary>Far longer than the test's steps before the stall (so the pod is still in backoff when the window fills;
    /// checked, with a second to spare: 5 s was too little for the steps on a machine at load 77) and shorter than the
    /// stall (so it expires while the window is full).</summary>
    private const int BackoffMilliseconds = 15000;

    private async Task Register(string name, string pool) =>
        Assert.True((await Cluster.Client.GetGrain<INodeGrain>(name).Register(new NodeSpec
        {
            Name = name, Capacity = ResourceVector.Of(cpuMilli: 8000, memoryBytes: 16L << 30), Labels = new Dictionary<string, string> { ["pool"] = pool },
        })).IsOk);

    private async Task<PodView?> Pod(string name) => await Cluster.Client.GetGrain<IPodGrain>(name).Get();

    [Fact]
    public async Task A_cycle_in_a_full_window_finishes_when_its_write_answers_while_another_pod_s_backoff_has_expired()
    {
        await Register("w-slow", "slow");
        // "waiting" fits no node: unschedulable after its first cycle, with a backoff of BackoffMilliseconds.
        var waiting = PodOf("waiting") with { NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Assert.True((await Cluster.Client.GetGrain<IPodGrain>("waiting").Create(waiting, null)).Outcome.IsOk);
        await WaitUntil(async () => (await Pod("waiting"))?.Phase == PodPhase.Unschedulable, "waiting unschedulable");
        var backoff = System.Diagnostics.Stopwatch.StartNew();

        // "held" takes the window, and its reservation write does not answer.
        Bindings.Stall("w-slow");
        var held = PodOf("held") with { NodeSelector = new Dictionary<string, string> { ["pool"] = "slow" } };
        Assert.True((await Cluster.Client.GetGrain<IPodGrain>("held").Create(held, null)).Outcome.IsOk);
        await WaitUntil(() => Task.FromResult(Bindings.StalledWrites("w-slow") == 1), "held's reservation write stalled");
        // "waiting" may have been tried again before the window filled (w-slow's registration reached its shard during its
        // first cycle, and an idle shard takes such a pod from backoff at once: SchedulerPopFromBackoffQ); none while it is full.
        var attemptsWhileFull = FailedAttempts(await Pod("waiting"));
        // A node joins: the cluster changed, so "waiting" moves to backoff (its backoff has not expired yet).
        await Register("w-other", "other");
        Assert.True(backoff.ElapsedMilliseconds < BackoffMilliseconds - 1000, $"the steps took {backoff.ElapsedMilliseconds} ms: the backoff may have expired before the window filled");

        // The backoff expires while the window is still full.
        await Task.Delay(BackoffMilliseconds + 500);
        Assert.Equal(PodPhase.Pending, (await Pod("held"))!.Phase);
        Assert.Equal(attemptsWhileFull, FailedAttempts(await Pod("waiting")));
        Bindings.Resume("w-slow");

        await WaitUntil(async () => (await Pod("held"))?.Phase == PodPhase.Running, "held running");
        Assert.Equal("w-slow", (await Pod("held"))!.NodeName);
        // The finished cycle made room, and the pod that waited for it had its cycle (it stays unschedulable: no node
        // matches it). Started by the finished cycle: the sweep, the only other way, comes every 20 minutes.
        await WaitUntil(async () => FailedAttempts(await Pod("waiting")) > attemptsWhileFull, "waiting tried again");
    }

    private static int FailedAttempts(PodView? pod) => pod!.Events.Where(e => e.Reason == "FailedScheduling").Sum(e => e.Count);
}
