using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Pods;

/// <summary>
/// What of a pod changes after creation: its labels and annotations (the labels' way to the scheduling that counts them),
/// and the limits a pod stored before they were kept learns from its manifest.
/// </summary>
public sealed partial class PodGrain
{
    public async Task<PodView?> SetMetadata(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string>? annotations)
    {
        var before = state.State;
        if (before.Spec is null) return null;
        var relabeled = !PodSpec.SameLabels(before.Spec.Labels, labels);
        state.State = before with
        {
            Spec = relabeled ? before.Spec with { Labels = labels } : before.Spec,
            Annotations = annotations is { Count: > 0 } ? annotations : null,
        };
        // Stores what the pod is now (a Scheduled pod too, whose next start resumes from it on activation), and keeps
        // the metadata as it was if the write fails.
        await state.WriteOrRestore(before);
        // Labels that did not change are the node's to take at a repair's next ask, made now as its own turn: the
        // annotations stand whatever the node answers.
        if (relabeled) await Relabeled(before);
        else AskAgainNow();
        // Reported, so listings and watches read the pod again and show the change.
        Report();
        return View();
    }

    public async Task<PodView?> SetActiveDeadline(long seconds)
    {
        var before = state.State;
        if (before.Spec is null) return null;
        if (before.Spec.ActiveDeadlineSeconds == seconds) return View();
        state.State = before with { Spec = before.Spec with { ActiveDeadlineSeconds = seconds } };
        // A running container takes it now; one not started yet takes it from the spec at its start.
        var container = Container.Get();
        var running = before.Phase == PodPhase.Running && Container.LimitTo(seconds, StartTime) is { Phase: ContainerPhase.Running } limited;
        if (running) state.State = state.State with { Container = Container.Get() };
        try
        {
            await state.WriteOrRestore(before);
        }
        catch
        {
            // The container as it was, not its deadline counted again: a pod Running across an upgrade keeps the deadline
            // it stored, counted from its container's start by older versions.
            if (running) Container.PutBack(container!);
            throw;
        }
        if (running) ArmExit();
        Report();
        return View();
    }

    public async Task<PodView?> KnowLimits(IReadOnlyDictionary<string, string> limits, IReadOnlyList<string> zeroRequests)
    {
        var before = state.State;
        if (before.Spec is null) return null;
        if (before.Spec is { Limits: not null, ZeroRequests: not null }) return View();
        state.State = before with { Spec = before.Spec with { Limits = before.Spec.Limits ?? limits, ZeroRequests = before.Spec.ZeroRequests ?? zeroRequests } };
        await state.WriteOrRestore(before);
        Report();
        return View();
    }

    /// <summary>
    /// Takes new labels to where scheduling reads them. A node whose relabel fails may have stored them all the same (it
    /// stores before it tells the views, and an answer can be lost): it is given the old labels back, and the pod is left
    /// as it was (<paramref name="before"/> written back), so pod and node agree on the old labels and a retry of the
    /// change takes both to the new. The node's failure goes to the caller. A node left with other labels than the pod's
    /// (not given the old ones back, or refused by a stopping silo after an earlier, broken attempt may have landed on its
    /// next activation) is asked again until it takes them (<see cref="NodeLabelsMayDiffer"/>).
    /// </summary>
    private async Task Relabeled(PodState before)
    {
        var s = state.State;
        if (s.Phase.IsWaiting())
        {
            // Its queue entry takes the new spec; a cycle already under way places it by the old labels, and its bind
            // passes the new ones on (MarkScheduled). So does kube-scheduler: an update to a pod its cycle assumed is not
            // queued, the bind goes on with the pod the cycle read, and the update reaches the cache after
            // (pkg/scheduler/eventhandlers.go, updatePodInSchedulingQueue, updatePodInCache); nothing re-checks other pods'
            // anti-affinity against the new labels then, as for a bound pod relabelled (IgnoredDuringExecution).
            _relabeledWhileWaiting = true;
            RequestScheduling();
            return;
        }
        if (!s.Phase.HoldsNode() || s.NodeName is not { } node) return;
        var nodeGrain = GrainFactory.Reference<INodeGrain>(node);
        bool held;
        try
        {
            // A node grain whose silo stops refuses it, naming the silo: asked again once that silo announced its stop, it reaches the node's next activation.
            held = await SiloStopping.AskedAgainOnceAnnounced(membership, silo.SiloAddress, SchedulingSiloService.RefusalToAnnouncement, () => nodeGrain.Relabel(Name, s.Spec!.CreatedAt, s.Spec.Labels));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRelabelFailed(logger, e, Name, node);
            // A refusal by a stopping silo's node grain stored nothing: giving it the old labels back would only wait
            // for that silo's announcement a second time. An earlier attempt the stop broke may have landed, though, so
            // the node is asked again later, as it is when the old labels did not take.
            var restored = SiloStopping.RefusingSilo(e) is null && await Unrelabel(nodeGrain, node, before);
            await RestorePod(before);
            if (!restored) NodeLabelsMayDiffer(node);
            throw;
        }
        // A node holding no pod of this incarnation has none to count: a pending repair for it ends.
        if (held) NodeTookLabels(node);
        else EndedLabelRepair(node);
    }

    /// <summary>
    /// The node back at the labels of <paramref name="before"/>, or false; a failure is logged, not thrown (the caller
    /// throws the relabel's own failure).
    /// </summary>
    private async Task<bool> Unrelabel(INodeGrain nodeGrain, string node, PodState before)
    {
        var restored = false;
        await LoggedSteps.Run(async () =>
        {
            await SiloStopping.AskedAgainOnceAnnounced(membership, silo.SiloAddress, SchedulingSiloService.RefusalToAnnouncement, () => nodeGrain.Relabel(Name, before.Spec!.CreatedAt, before.Spec.Labels));
            restored = true;
        }, e => LogOldLabelsNotRestored(logger, e, Name, node));
        return restored;
    }

    /// <summary>The pod back at <paramref name="before"/>; a failed write is logged, not thrown.</summary>
    private async Task RestorePod(PodState before)
    {
        state.State = before;
        await LoggedSteps.Run(() => state.WriteStateAsync(), e => LogOldLabelsNotStored(logger, e, Name));
    }

    /// <summary>Labels changed while the pod waited: a cycle may have placed it by the old ones (memory only, as that cycle is).</summary>
    private bool _relabeledWhileWaiting;

    /// <summary>
    /// The node took the pod as its cycle saw it, which may be before its labels changed: it is asked for the pod's labels
    /// by a repair's first ask, at once and as a turn of its own, so the labels it sends are the pod's then (a relabel
    /// since is not overtaken by older ones), and a failure is said at that ask (1511; 1522 at Information for a stopping
    /// silo's refusal or break, which the next tick normally heals) and asked again. Not thrown: the
    /// placement stands either way.
    /// </summary>
    private void RelabelPlacement(string node)
    {
        _relabeledWhileWaiting = false;
        NodeLabelsMayDiffer(node, failureSaid: false, firstAsk: TimeSpan.Zero);
    }

    [LoggerMessage(EventId = 1511, Level = LogLevel.Warning, Message = "Pod {Pod} was relabelled while its cycle placed it; node {Node} did not take the new labels and counts the old ones for other pods' affinity and spread until it takes them (asked again)")]
    private static partial void LogLabelsNotPlaced(ILogger logger, Exception error, string pod, string node);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Warning, Message = "Pod {Pod} was relabelled but node {Node} failed to take the new labels; the pod and the node are given the old labels back")]
    private static partial void LogRelabelFailed(ILogger logger, Exception error, string pod, string node);

    [LoggerMessage(EventId = 1513, Level = LogLevel.Error, Message = "Pod {Pod} keeps its old labels but node {Node} could not be given them back; it may count the new ones for other pods' affinity and spread until it takes them (asked again)")]
    private static partial void LogOldLabelsNotRestored(ILogger logger, Exception error, string pod, string node);

    [LoggerMessage(EventId = 1514, Level = LogLevel.Error, Message = "Pod {Pod} could not store its old labels back after its node failed to take the new ones; its stored record holds the new ones until it is relabelled again")]
    private static partial void LogOldLabelsNotStored(ILogger logger, Exception error, string pod);
}
