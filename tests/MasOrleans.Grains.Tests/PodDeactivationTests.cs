using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod's activation that stops between its placement and its container's start, as every activation of a silo stopped
/// with SIGTERM does: the pod was Pending again in its next activation (Scheduled lived in memory only), which then took
/// a second cycle's placement on another node while the first still held it: one pod held by two nodes (SiloStopTests).
/// </summary>
public sealed class PodDeactivationTests : FailingWritesClusterTest<FailingPodWrites>
{
    [Fact]
    public async Task A_pod_stopped_while_scheduled_keeps_its_node_and_refuses_a_second_placement_elsewhere()
    {
        // The Running write is held off (failed, and tried again each second), so the pod stays Scheduled, not yet stored.
        Log.Expect("the pod's Running write failed");
        var grains = Cluster.Client;
        foreach (var name in new[] { "pd-first", "pd-second" }) Assert.True((await grains.GetGrain<INodeGrain>(name).Register(NodeSpecOf(name))).IsOk);
        Writes.Fail(p => p.Phase == PodPhase.Running, "Running");
        var pod = grains.GetGrain<IPodGrain>("pd-pod");
        Assert.True((await pod.Create(PodOf("pd-pod", 1000), null)).Outcome.IsOk);
        var placed = await WaitForPod(grains, "pd-pod", p => p.Phase == PodPhase.Scheduled);
        await WaitUntil(() => Task.FromResult(Writes.Failed > 0), "a failed Running write");

        await Cluster.DeactivateAsync(pod);

        var after = (await pod.Get())!;
        Assert.Equal((PodPhase.Scheduled, placed.NodeName), (after.Phase, after.NodeName));
        // The cycle that was in flight elsewhere when the silo stopped comes with another node: refused (its cycle then
        // releases that node), as before the stop.
        var elsewhere = placed.NodeName == "pd-first" ? "pd-second" : "pd-first";
        Assert.Null(await pod.MarkScheduled(new Placement(elsewhere, GpuAllocation.None, new Dictionary<string, long>(), "kube")));

        Writes.Stop();
        var running = await WaitForPod(grains, "pd-pod", p => p.Phase == PodPhase.Running);
        Assert.Equal(placed.NodeName, running.NodeName);
        Assert.Contains("pd-pod", (await grains.GetGrain<INodeGrain>(placed.NodeName!).GetView())!.Pods.Select(p => p.Pod.Name));
    }
}
