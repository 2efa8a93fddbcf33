using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod's spec.activeDeadlineSeconds counts as the kubelet counts it: from the pod's status.startTime
/// (pastActiveDeadline, pkg/kubelet/active_deadline.go: clock.Since(podStatus.StartTime)), which the kubelet's status
/// manager sets when it first sees the pod, before pulling its image (updateStatusInternal,
/// pkg/kubelet/status/status_manager.go); here that is the bind, the pod's Scheduled event, which /k8s serves as
/// status.startTime. The deadline counted from the container's start, later by the image pull and the start. The
/// DeadlineExceeded event is Normal, as ShouldEvict in active_deadline.go records it; it was a Warning.
/// </summary>
public sealed class PodActiveDeadlineTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task The_deadline_counts_from_the_bind_not_the_container_start_and_its_event_is_normal()
    {
        await Grains.GetGrain<INodeGrain>("g-deadline").Register(NodeSpecOf("g-deadline") with { Labels = new Dictionary<string, string> { ["pool"] = "deadline" } });
        // An image the node lacks: its pull (ContainerRuntime:PullMilliseconds, 50 by default) comes between bind and start.
        var spec = PodOf("deadline-1", cpuMilli: 500, image: "deadline/pulled:1") with
        {
            ActiveDeadlineSeconds = 3600, NodeSelector = new Dictionary<string, string> { ["pool"] = "deadline" },
        };
        var pod = Grains.GetGrain<IPodGrain>("deadline-1");
        await pod.Create(spec, null);
        var running = await WaitForPod(Grains, "deadline-1", p => p.Phase == PodPhase.Running);
        var bound = running.Events.Single(e => e.Reason == "Scheduled").LastSeen;
        var container = (await pod.GetContainer())!;
        Assert.True(container.StartedAt > bound, $"the container started at {container.StartedAt:O}, after the bind at {bound:O}");
        Assert.Equal(bound.AddSeconds(3600), container.Deadline);

        // Lowered on the running pod: still counted from the bind.
        Assert.NotNull(await pod.SetActiveDeadline(1800));
        Assert.Equal(bound.AddSeconds(1800), (await pod.GetContainer())!.Deadline);

        Assert.NotNull(await pod.SetActiveDeadline(1));
        var failed = await WaitForPod(Grains, "deadline-1", p => p.Phase is PodPhase.Failed or PodPhase.Succeeded);
        Assert.Equal((PodPhase.Failed, PodReasons.DeadlineExceeded), (failed.Phase, failed.Reason));
        var last = failed.Events[^1];
        Assert.Equal(("Normal", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"), (last.Type, last.Reason, last.Message));
    }
}
