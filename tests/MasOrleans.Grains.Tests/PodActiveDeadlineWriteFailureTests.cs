using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A running pod's active deadline lowered (SetActiveDeadline) whose write fails keeps the container as it was. It was
/// counted again from the pod's start time with the old seconds, which moved the deadline of a pod Running across the
/// upgrade to the deadline counted from the bind: older versions stored it counted from the container's start.
/// </summary>
public sealed class PodActiveDeadlineWriteFailureTests : FailingWritesClusterTest<FailingPodWrites>
{
    [Fact]
    public async Task A_failed_deadline_write_keeps_the_deadline_the_running_pod_stored()
    {
        Log.Expect("mas-pod/dw-pod");
        Log.Expect("the pod's deadline write failed");
        var grains = Cluster.Client;
        Assert.True((await grains.GetGrain<INodeGrain>("dw-node").Register(NodeSpecOf("dw-node"))).IsOk);
        // An image the node lacks: its pull comes between the bind and the container's start, so the two counts differ.
        var pod = grains.GetGrain<IPodGrain>("dw-pod");
        Assert.True((await pod.Create(PodOf("dw-pod", cpuMilli: 500, image: "deadline/pulled:1") with { ActiveDeadlineSeconds = 3600 }, null)).Outcome.IsOk);
        var running = await WaitForPod(grains, "dw-pod", p => p.Phase == PodPhase.Running);
        var bound = running.Events.Single(e => e.Reason == "Scheduled").LastSeen;
        var started = (await pod.GetContainer())!.StartedAt!.Value;
        Assert.True(started > bound, $"the container started at {started:O}, after the bind at {bound:O}");

        // As an older version stored it: counted from the container's start.
        Writes.ReadAs = s => s.Container is { } c ? s with { Container = c with { Deadline = started.AddSeconds(3600) } } : s;
        await Cluster.DeactivateAsync(pod);
        Assert.Equal(started.AddSeconds(3600), (await pod.GetContainer())!.Deadline);
        Writes.ReadAs = null;

        Writes.FailNext(s => s.Spec?.ActiveDeadlineSeconds == 1800, "deadline");
        await Assert.ThrowsAnyAsync<Exception>(() => pod.SetActiveDeadline(1800));
        Assert.Equal(1, Writes.Failed);
        Assert.Equal(started.AddSeconds(3600), (await pod.GetContainer())!.Deadline);
        Assert.Equal(3600, (await pod.Get())!.Spec.ActiveDeadlineSeconds);
    }
}
