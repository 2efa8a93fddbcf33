using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod whose image pull outlasts its spec.activeDeadlineSeconds fails while still Pending (Scheduled here), never
/// Running: once past the deadline, counted from status.startTime (pastActiveDeadline, pkg/kubelet/active_deadline.go),
/// every status the kubelet generates is Failed with reason DeadlineExceeded whatever its containers do
/// (generateAPIPodStatus, pkg/kubelet/kubelet_pods.go, asks the handler's ShouldEvict before it derives the phase from
/// the containers). The pod stored Running when the pull ended, and only then failed; a watch or a read in between
/// showed it Running. Every state the pod wrote is recorded (<see cref="FailingPodWrites.PhasesWritten"/>): the one
/// place its listings, watches and reads take a phase from.
/// </summary>
public sealed class PodDeadlineDuringPullTests() : FailingWritesClusterTest<FailingPodWrites>(new Dictionary<string, string?>
{
    // The pull outlasts the one-second deadline by far, however slowly the machine runs the bind.
    ["ContainerRuntime:PullMilliseconds"] = "3000",
})
{
    [Fact]
    public async Task A_pod_whose_image_pull_outlasts_its_deadline_goes_from_pending_to_failed()
    {
        var grains = Cluster.Client;
        Assert.True((await grains.GetGrain<INodeGrain>("dp-node").Register(NodeSpecOf("dp-node"))).IsOk);
        var pod = grains.GetGrain<IPodGrain>("dp-pod");
        Assert.True((await pod.Create(PodOf("dp-pod", cpuMilli: 500, image: "deadline/slow-pull:1") with { ActiveDeadlineSeconds = 1 }, null)).Outcome.IsOk);

        var failed = await WaitForPod(grains, "dp-pod", p => p.Phase is PodPhase.Failed or PodPhase.Succeeded);
        Assert.Equal((PodPhase.Failed, PodReasons.DeadlineExceeded), (failed.Phase, failed.Reason));
        Assert.Equal(PodPhase.Failed, Writes.PhasesWritten("dp-pod")[^1]);
        Assert.DoesNotContain(PodPhase.Running, Writes.PhasesWritten("dp-pod"));
        // Its container never started: no Started event (which /k8s serves as the container's startedAt), none left running.
        Assert.DoesNotContain(failed.Events, e => e.Reason == "Started");
        Assert.Equal(("Normal", "DeadlineExceeded", PodReasons.DeadlineExceededMessage), (failed.Events[^1].Type, failed.Events[^1].Reason, failed.Events[^1].Message));
        Assert.Null(await pod.GetContainer());
        // Its node's room is released, as for a pod failed while Running.
        await WaitForNode(grains, "dp-node", n => n.Pods.Count == 0);
    }
}
