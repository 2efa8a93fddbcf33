using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.KubeApi;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A preemptor nominated and still Pending (its cycle nominated it, recorded FailedScheduling, and evicts its victims)
/// failed its cycle as an unschedulable pod does: kube-scheduler's handleSchedulingFailure writes PodScheduled=False
/// (reason Unschedulable, the FitError's message, the event's) with status.nominatedNodeName in the same updatePod
/// (pkg/scheduler/schedule_one.go). The pod was served the nomination and the event but no condition. The state lasts
/// only until the victims are gone, too briefly to catch through a silo, so the /k8s object is built from the pod's view.
/// </summary>
public sealed class KubePodNominatedConditionTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private const string Failure = "0/1 nodes are available: 1 Insufficient cpu.";

    private static PodView Nominated(PodPhase phase, string? node, string? nominated) => new(
        new PodSpec { Name = "np-pod", Requests = ResourceVector.Of(cpuMilli: 2000), CreatedAt = Created },
        phase, node, GpuAllocation.None,
        [new PodEvent(Created, "Normal", "Created", "pod created"), new PodEvent(Created.AddSeconds(1), "Warning", "FailedScheduling", Failure)],
        new Dictionary<string, long>(), null, null, Created, NominatedNodeName: nominated);

    /// <summary>Failed before: a Pending nominated pod had no PodScheduled condition at all.</summary>
    [Fact]
    public void A_pending_nominated_preemptor_is_served_podscheduled_false_with_its_failure()
    {
        var status = KubePodObjects.ToPod(Nominated(PodPhase.Pending, node: null, nominated: "np-node"), "1").Status;
        Assert.Equal("Pending", status.Phase);
        Assert.Equal("np-node", status.NominatedNodeName);
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("PodScheduled", "False", "Unschedulable", Failure), (condition.Type, condition.Status, condition.Reason, condition.Message));
        Assert.Equal(Created.AddSeconds(1).UtcDateTime, condition.LastTransitionTime);
    }

    /// <summary>
    /// Failed before: a preemptor whose nomination a higher-priority pod cleared stays Pending with its FailedScheduling
    /// event, and kube keeps PodScheduled=False (nothing but binding clears it); the condition vanished with the nomination.
    /// </summary>
    [Fact]
    public void A_pending_pod_that_failed_scheduling_without_a_nomination_keeps_podscheduled_false()
    {
        var status = KubePodObjects.ToPod(Nominated(PodPhase.Pending, node: null, nominated: null), "1").Status;
        Assert.Null(status.NominatedNodeName);
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("PodScheduled", "False", "Unschedulable", Failure), (condition.Type, condition.Status, condition.Reason, condition.Message));
        Assert.Equal(Created.AddSeconds(1).UtcDateTime, condition.LastTransitionTime);
    }

    /// <summary>Not nominated and not yet tried, a Pending pod has no condition (kube writes none before its first cycle).</summary>
    [Fact]
    public void A_pending_pod_not_nominated_has_no_podscheduled_condition()
    {
        var view = Nominated(PodPhase.Pending, node: null, nominated: null) with { Events = [new PodEvent(Created, "Normal", "Created", "pod created")] };
        Assert.Empty(KubePodObjects.ToPod(view, "1").Status.Conditions);
    }
}
