using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
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
        if (relabeled) await Relabeled(before);
        // Reported, so listings and watches read the pod again and show the change.
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
    /// Takes new labels to where scheduling reads them. A node that cannot store them leaves the pod as it was
    /// (<paramref name="before"/> written back) and the failure goes to the caller: stored with the pod only, they would
    /// be served while other pods' placements still counted the old ones.
    /// </summary>
    private async Task Relabeled(PodState before)
    {
        var s = state.State;
        if (s.Phase.IsWaiting())
        {
            // Its queue entry takes the new spec; a cycle already under way placed it by the old labels, so its bind
            // passes the new ones on (MarkScheduled).
            _relabeledWhileWaiting = true;
            RequestScheduling();
            return;
        }
        if (!s.Phase.HoldsNode() || s.NodeName is not { } node) return;
        try
        {
            await GrainFactory.Reference<INodeGrain>(node).Relabel(Name, s.Spec!.CreatedAt, s.Spec.Labels);
        }
        catch
        {
            state.State = before;
            await state.WriteStateAsync();
            throw;
        }
    }

    /// <summary>Labels changed while the pod waited: a cycle may have placed it by the old ones (memory only, as that cycle is).</summary>
    private bool _relabeledWhileWaiting;

    /// <summary>
    /// The node took the pod as its cycle saw it, which may be before its labels changed: it is given the pod's labels.
    /// Not thrown: the placement stands either way, and a node that did not hear them keeps counting the old ones.
    /// </summary>
    private async Task RelabelPlacement(string node)
    {
        _relabeledWhileWaiting = false;
        try
        {
            await GrainFactory.Reference<INodeGrain>(node).Relabel(Name, state.State.Spec!.CreatedAt, state.State.Spec.Labels);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogLabelsNotPlaced(logger, e, Name, node);
        }
    }

    [LoggerMessage(EventId = 1511, Level = LogLevel.Warning, Message = "Pod {Pod} was relabelled while its cycle placed it; node {Node} did not take the new labels and counts the old ones for other pods' affinity and spread")]
    private static partial void LogLabelsNotPlaced(ILogger logger, Exception error, string pod, string node);
}
