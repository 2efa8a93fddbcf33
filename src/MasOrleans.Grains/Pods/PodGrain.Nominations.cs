using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Pods;

/// <summary>
/// A preemptor's nomination (kube's status.nominatedNodeName and the nominator, pkg/scheduler/backend/queue/nominator.go):
/// stored with the pod, held by its node, and cleared by a higher-priority preemptor on that node.
/// </summary>
public sealed partial class PodGrain
{
    public async Task<Nomination> Nominate(string node, DateTimeOffset? podCreatedAt = null, string? failure = null)
    {
        var s = state.State;
        // A late cycle of a pod of this name deleted since nominates nothing for this one.
        if (s.Spec is null || !s.Phase.IsWaiting() || !PodSpec.SameIncarnation(s.Spec.CreatedAt, podCreatedAt)) return Nomination.None;
        // Versioned, so a clear names the nomination it clears, to the pod (as the node holds it) and to the pod's silo's
        // view: the view counts this one from its cycle's decision on, which a preemptor's clear of the earlier one to the
        // same node may reach first, and a clear asked again may reach the pod after this one.
        var version = NextVersion();
        var nomination = await GrainFactory.Reference<INodeGrain>(node).Nominate(s.Spec, preempting: true, version);
        _holdAsked = true;
        state.State = s with { NominatedNodeName = node, NominationVersion = version };
        // In the same write: the preemptor's history says why it waited and where, before its victims leave.
        if (failure is not null) AddEvent("Warning", "FailedScheduling", failure);
        // Stored, as kube's status.nominatedNodeName is: a shard activated afresh (a restart, a move) has the pod
        // enqueue again with it, and its silo's view nominates the pod there again (Enqueue). Reported, so listings and
        // watches show it. A failed write leaves the pod as stored, held where that names as that version (so the new hold
        // goes) and failing its cycle.
        try
        {
            await PersistOrRestore(s);
        }
        catch
        {
            if (s.NominatedNodeName != node) await ForgetNomination(node, s.Spec.CreatedAt);
            else
            {
                _renominationNotStored = version;
                await HoldAgain(node);
            }
            throw;
        }
        _renominationNotStored = null;
        // Kube's nominator keeps one nomination per pod (AddNominatedPod deletes the pod's earlier one); here once the new one is stored.
        if (s.NominatedNodeName is { } earlier && earlier != node) await ForgetNomination(earlier, s.Spec.CreatedAt);
        return nomination with { Version = version };
    }

    /// <summary>
    /// Drops the hold on <paramref name="node"/> of the pod created at <paramref name="podCreatedAt"/> at once, as kube's
    /// nominator does on assign and delete; by creation time, so a deleted pod's late forget leaves the hold of a pod
    /// created again under the name. A node that does not answer keeps the hold until it lapses by itself (30 s), so the
    /// pod's own bind or delete still stands.
    /// </summary>
    private Task ForgetNomination(string node, DateTimeOffset? podCreatedAt) =>
        LoggedSteps.Run(() => GrainFactory.Reference<INodeGrain>(node).ForgetNomination(Name, podCreatedAt), e => LogNominationNotDropped(logger, e, Name, node));

    /// <summary>
    /// The version of a renomination to the stored nomination's node whose write failed, until a nomination is stored: the
    /// node held it until the pod held the stored one again, so a preemptor answered it meanwhile names it in its clear.
    /// </summary>
    private long? _renominationNotStored;

    /// <summary>The node's hold for this pod's nomination was asked for in this activation (<see cref="Nominate"/>, <see cref="HoldAgain"/>).</summary>
    private bool _holdAsked;

    /// <summary>
    /// The stored nomination holds its node's room again, once per activation of the pod (its first <see cref="Retry"/>,
    /// which a queue shard activated afresh sends): the node's hold lives in its memory alone and is gone after a restart,
    /// and the cycles of other silos, whose views do not count the nomination, are refused there only by it. A node that
    /// does not answer is logged; the pod's own silo's view still counts the nomination.
    /// </summary>
    private Task HoldAgain(string node)
    {
        _holdAsked = true;
        var s = state.State;
        return LoggedSteps.Run(() => GrainFactory.Reference<INodeGrain>(node).Nominate(s.Spec!, version: s.NominationVersion), e => LogNominationNotHeld(logger, e, Name, node));
    }

    /// <summary>
    /// Stored first, then the node's hold goes: kube's clear is a status patch and its nominator follows the status (v1.35
    /// pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod). Not critical to the preemptor whose cycle asks it
    /// (kube's prepareCandidate logs a failed clearNominatedNodeName and goes on): a failed write is logged, and the pod
    /// stays nominated as stored, its hold kept until it lapses (it is not renewed), and its silo's view counts it there
    /// still (<see cref="RequestScheduling"/> has a shard activated afresh count it too). A clear stored is forgotten by
    /// that view (<see cref="ISchedulingQueueGrain.NominationCleared"/>), which no preemptor's cycle forgets it in before.
    /// </summary>
    public async Task ClearNomination(string node, long version, DateTimeOffset? podCreatedAt = null)
    {
        var s = state.State;
        var waiting = s.Spec is not null && s.Phase.IsWaiting() && PodSpec.SameIncarnation(s.Spec.CreatedAt, podCreatedAt);
        // Nominated there anew since (the clear asked again after its answer was lost, or sent late): that one stays, and its
        // hold. A clear of a renomination there that was not stored clears the stored one, which the node holds in its place.
        if (waiting && s.NominatedNodeName == node && s.NominationVersion != version && version != _renominationNotStored) return;
        if (!waiting || s.NominatedNodeName != node)
        {
            // The status names no nomination there, yet the node answered the pod to the preemptor: a hold an earlier
            // forget failed to drop (Warning 1501). It goes now, as kube's nominator follows the status; a later
            // Nominate, which waits for this call, holds again.
            await ForgetNomination(node, podCreatedAt);
            return;
        }
        state.State = s with { NominatedNodeName = null };
        try
        {
            await state.WriteOrRestore(s);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogNominationClearNotStored(logger, e, Name, node);
            RequestScheduling();
            return;
        }
        Report();
        // The preemptor's cycle may run on another silo: this pod's silo's view hears of the clear from it alone.
        _ = Shard.NominationCleared(Name, node, s.NominationVersion);
        await ForgetNomination(node, s.Spec!.CreatedAt);
    }

    [LoggerMessage(EventId = 1515, Level = LogLevel.Warning, Message = "Pod {Pod} could not hold its stored nomination's room on node {Node} again; until it is nominated again, only its own silo's scheduling counts it there")]
    private static partial void LogNominationNotHeld(ILogger logger, Exception error, string pod, string node);

    [LoggerMessage(EventId = 1516, Level = LogLevel.Warning, Message = "Pod {Pod} could not store that a higher-priority preemptor cleared its nomination on node {Node}; it stays nominated there as stored until it is placed or nominated again, and the node's hold for it until then or until the hold lapses")]
    private static partial void LogNominationClearNotStored(ILogger logger, Exception error, string pod, string node);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Pod {Pod} could not drop its nomination on node {Node}; the hold there goes at the next preemptor's clear there, or lapses by itself")]
    private static partial void LogNominationNotDropped(ILogger logger, Exception error, string pod, string node);
}
