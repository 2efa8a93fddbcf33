using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod's terminal write that fails (Redis gone for a moment): the pod was Failed in memory, Running in storage, kept
/// its node, and refused the eviction asked again ("not on that node any more"). It stays as stored until a write lands.
/// </summary>
public sealed class PodWriteFailureTests : FailingWritesClusterTest<FailingPodWrites>
{
    [Fact]
    public async Task An_eviction_whose_write_fails_leaves_the_pod_running_on_its_node_and_can_be_asked_again()
    {
        Log.Expect("mas-pod/pw-evicted");
        Log.Expect("the pod's terminal write failed");
        var (node, pod) = await RunningOn("pw-node", PodOf("pw-evicted", 1000));

        FailNextTerminalWrite();
        await Assert.ThrowsAnyAsync<Exception>(() => pod.Evict("pw-node", PodReasons.TaintEviction, "evicted (test)"));
        Assert.Equal((PodPhase.Running, "pw-node"), ((await pod.Get())!.Phase, (await pod.Get())!.NodeName));
        Assert.Contains("pw-evicted", (await node.GetView())!.Pods.Select(p => p.Pod.Name));

        // Asked again once Redis answers: evicted, and the node freed.
        Assert.True(await pod.Evict("pw-node", PodReasons.TaintEviction, "evicted (test)"));
        Assert.Equal(PodPhase.Failed, (await pod.Get())!.Phase);
        Assert.DoesNotContain("pw-evicted", (await node.GetView())!.Pods.Select(p => p.Pod.Name));
    }

    /// <summary>
    /// A NoExecute taint's eviction on a Ready node whose write fails is asked again by the node until the pod leaves, as
    /// kube's taint manager retries a failed deletion (deletePodHandler, pkg/controller/tainteviction/taint_eviction.go):
    /// it was asked only when the taints next changed, so the pod stayed on a node it does not tolerate.
    /// </summary>
    [Fact]
    public async Task A_taint_eviction_whose_write_fails_is_asked_again_on_a_ready_node()
    {
        Log.Expect("mas-pod/pw-untolerated");
        Log.Expect("the pod's terminal write failed");
        var (node, pod) = await RunningOn("pw-taint-node", PodOf("pw-untolerated", 1000));

        FailNextTerminalWrite();
        Assert.True((await node.Patch(new NodePatch(Taints: [new Taint("maint", null, TaintEffects.NoExecute)]))).IsOk);

        await WaitUntil(async () => !(await node.GetView())!.Pods.Any(p => p.Pod.Name == "pw-untolerated"), "the node freed");
        Assert.False(Writes.Armed); // the first eviction's write did fail
        var evicted = (await pod.Get())!;
        Assert.Equal((PodPhase.Failed, PodReasons.TaintEviction), (evicted.Phase, evicted.Reason));
    }

    /// <summary>
    /// A timed eviction (tolerationSeconds ran out) whose write fails is asked again at the next check: it was dropped
    /// on a Ready node (and on a NotReady one waited the whole tolerationSeconds again), where kube's taint manager
    /// retries the deletion at once (deletePodHandler's retries, pkg/controller/tainteviction/taint_eviction.go).
    /// </summary>
    [Fact]
    public async Task A_timed_eviction_whose_write_fails_is_asked_again_soon()
    {
        Log.Expect("mas-pod/pw-tolerated-a-while");
        Log.Expect("the pod's terminal write failed");
        var (node, pod) = await RunningOn("pw-timed-node",
            PodOf("pw-tolerated-a-while", 1000) with { Tolerations = [new Toleration("maint", "Exists", Effect: TaintEffects.NoExecute, TolerationSeconds: 1)] });

        FailNextTerminalWrite();
        Assert.True((await node.Patch(new NodePatch(Taints: [new Taint("maint", null, TaintEffects.NoExecute)]))).IsOk);

        await WaitUntil(async () => !(await node.GetView())!.Pods.Any(p => p.Pod.Name == "pw-tolerated-a-while"), "the node freed");
        Assert.False(Writes.Armed);
        var evicted = (await pod.Get())!;
        Assert.Equal((PodPhase.Failed, PodReasons.TaintEviction), (evicted.Phase, evicted.Reason));
        Assert.Equal("taint maint:NoExecute on node pw-timed-node was tolerated for 1 s (tolerationSeconds), which ran out", evicted.Events[^1].Message);
    }

    private async Task<(INodeGrain Node, IPodGrain Pod)> RunningOn(string nodeName, PodSpec spec)
    {
        var node = Cluster.Client.GetGrain<INodeGrain>(nodeName);
        Assert.True((await node.Register(new NodeSpec { Name = nodeName, Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        var pod = Cluster.Client.GetGrain<IPodGrain>(spec.Name);
        Assert.True((await pod.Create(spec, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");
        return (node, pod);
    }

    /// <summary>A container's exit whose write fails is recorded again shortly: the pod ends Succeeded and frees its node.</summary>
    [Fact]
    public async Task A_container_exit_whose_write_fails_is_recorded_again()
    {
        Log.Expect("mas-pod/pw-exits");
        Log.Expect("the pod's terminal write failed");
        var grains = Cluster.Client;
        var node = grains.GetGrain<INodeGrain>("pw-exit-node");
        Assert.True((await node.Register(new NodeSpec { Name = "pw-exit-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        FailNextTerminalWrite();
        var pod = grains.GetGrain<IPodGrain>("pw-exits");
        Assert.True((await pod.Create(PodOf("pw-exits", 1000) with { ExpectedDurationSeconds = 0.2 }, null)).Outcome.IsOk);

        // The failed write first: before the cycle binds the pod the node holds nothing either (a loaded run saw it "freed"
        // before the pod was placed).
        await WaitUntil(() => Task.FromResult(!Writes.Armed), "the first exit's write failed");
        await WaitUntil(async () => !(await node.GetView())!.Pods.Any(p => p.Pod.Name == "pw-exits"), "the node freed");
        Assert.Equal(PodPhase.Succeeded, (await pod.Get())!.Phase);
    }

    private void FailNextTerminalWrite() => Writes.FailNext(p => p.Phase is PodPhase.Failed or PodPhase.Succeeded, "terminal");
}
