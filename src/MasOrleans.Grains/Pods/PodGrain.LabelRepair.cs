using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Pods;

/// <summary>
/// A node that may count other labels for this pod than the pod stores (its relabel failed and it was not given the old
/// labels back, 1513; a relabel was refused by a stopping silo after an earlier broken attempt may have landed; or the pod
/// was relabelled while its cycle placed it, 1511 once that fails): the node keeps counting them for other pods' affinity
/// and spread, so it is asked again for the pod's labels until it takes them, each ask a turn of its own that reads the
/// pod's labels then; a SetMetadata that leaves the labels as they are asks at once. Memory only: see
/// <see cref="GiveUpLabelRepair"/>.
/// </summary>
public sealed partial class PodGrain
{
    /// <summary>The node whose labels for this pod's incarnation may differ from the pod's, while this activation holds it; null when none may.</summary>
    private LabelRepair? _labelRepair;

    /// <param name="Node">The node asked again.</param>
    /// <param name="PodCreatedAt">The pod's incarnation it is for: a pod of the name created again is not repaired by it.</param>
    /// <param name="FailureSaid">Whether a failure was said (1511-1513): a placement's relabel (<see cref="RelabelPlacement"/>) says its first at its first ask.</param>
    private sealed record LabelRepair(string Node, DateTimeOffset? PodCreatedAt, bool FailureSaid);

    private IGrainTimer? _labelRepairTimer;

    /// <summary>The last ask of the node, which may outlive its tick (<see cref="LabelRepairCallLimit"/>).</summary>
    private Task<bool>? _labelRepairAsk;

    /// <summary>The wait before the ask after the next failure: the first delay, doubling up to <see cref="LongestLabelRepairWait"/>.</summary>
    private TimeSpan _labelRepairDelay;
    private DateTimeOffset _labelRepairSince;
    private bool _labelRepairWarned;

    /// <summary>The first ask again comes soon (a lost answer, <see cref="SchedulerOptions.LabelRepairFirstDelayMilliseconds"/>); then the wait doubles up to this, for an outage.</summary>
    private static readonly TimeSpan LongestLabelRepair = TimeSpan.FromSeconds(30);

    private TimeSpan FirstLabelRepair => TimeSpan.FromMilliseconds(schedulerOptions.Value.LabelRepairFirstDelayMilliseconds);

    /// <summary>A first delay set longer than <see cref="LongestLabelRepair"/> (tests holding the repair off) is not shortened by the cap.</summary>
    private TimeSpan LongestLabelRepairWait => FirstLabelRepair > LongestLabelRepair ? FirstLabelRepair : LongestLabelRepair;

    private TimeSpan Doubled(TimeSpan wait) => TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LongestLabelRepairWait.Ticks));

    /// <summary>
    /// An ask is a turn of the pod: its other calls (an eviction preemption awaits, a deletion, a relabel) wait on it, so it
    /// is bounded as the shard's calls to a pod are, and is not asked again within the turn (the next tick comes anyway).
    /// </summary>
    private static readonly TimeSpan LabelRepairCallLimit = TimeSpan.FromSeconds(5);

    /// <summary>A repair still failing this long is said once at Warning; the failures before are already loud (1511-1513), their repeats Debug.</summary>
    private static readonly TimeSpan LabelRepairWarnAfter = TimeSpan.FromMinutes(5);

    /// <summary>
    /// <paramref name="node"/> may count other labels for the pod's current incarnation; it is asked again, with backoff,
    /// first after <paramref name="firstAsk"/> (the first delay when null). <paramref name="failureSaid"/>: as
    /// <see cref="LabelRepair.FailureSaid"/>.
    /// </summary>
    private void NodeLabelsMayDiffer(string node, bool failureSaid = true, TimeSpan? firstAsk = null)
    {
        var createdAt = state.State.Spec?.CreatedAt;
        if (_labelRepair is not { } pending || pending.Node != node || !PodSpec.SameIncarnation(pending.PodCreatedAt, createdAt))
        {
            _labelRepair = new LabelRepair(node, createdAt, failureSaid);
            _labelRepairSince = clock.GetUtcNow();
            _labelRepairWarned = false;
        }
        else if (failureSaid) _labelRepair = pending with { FailureSaid = true };
        // The first ask again at the first delay (or firstAsk), the one after its failure at the first delay too when
        // firstAsk came sooner, then doubling.
        var due = firstAsk ?? FirstLabelRepair;
        _labelRepairDelay = due < FirstLabelRepair ? FirstLabelRepair : Doubled(due);
        AskAgainAfter(due);
    }

    private void AskAgainAfter(TimeSpan due)
    {
        // Each tick counts as activity (KeepAlive), so the pod stays active while its waits, 30 s at most by default, are
        // shorter than the collection age; a collection would take the repair with it (Warning 1521).
        if (_labelRepairTimer is null)
            _labelRepairTimer = this.RegisterGrainTimer(RepairNodeLabels, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        else _labelRepairTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A pending repair asked now, as its own turn (best effort: its failure is the repair's, not the caller's); the backoff stays.</summary>
    private void AskAgainNow()
    {
        if (LabelRepairDue() is not null) AskAgainAfter(TimeSpan.Zero);
    }

    /// <summary>
    /// The node the pending repair is for, while the pod's incarnation it is for still holds it; a pod deleted, finished,
    /// placed elsewhere or created again ends the repair.
    /// </summary>
    private string? LabelRepairDue()
    {
        if (_labelRepair is not { Node: var node } repair) return null;
        if (state.State is { Spec: { } spec, NodeName: { } held } s && s.Phase.HoldsNode() && held == node && PodSpec.SameIncarnation(spec.CreatedAt, repair.PodCreatedAt))
            return node;
        EndedLabelRepair(node);
        return null;
    }

    /// <summary>The node took the pod's labels (a relabel, or a repair): any repair pending for it is done.</summary>
    private void NodeTookLabels(string node)
    {
        // A repair for another incarnation of the pod ends (1520) rather than counting as done.
        if (LabelRepairDue() != node || _labelRepair is not { } repair) return;
        // A repair's ask still on its way may land after these labels with the ones it read: the next tick, after it, asks
        // again (checked again soon, not at the backoff: the ask has not failed).
        if (_labelRepairAsk is { IsCompleted: false })
        {
            AskAgainAfter(FirstLabelRepair);
            return;
        }
        if (repair.FailureSaid) LogLabelsRepaired(logger, Name, node, clock.GetUtcNow() - _labelRepairSince);
        EndLabelRepair();
    }

    /// <summary>The node holds no pod of this incarnation, or the pod is gone from it: nothing there to repair (1520).</summary>
    private void EndedLabelRepair(string node)
    {
        if (_labelRepair?.Node != node) return;
        LogLabelRepairEnded(logger, Name, node);
        EndLabelRepair();
    }

    private void EndLabelRepair()
    {
        _labelRepair = null;
        _labelRepairTimer?.Dispose();
        _labelRepairTimer = null;
    }

    private async Task RepairNodeLabels(CancellationToken cancellation)
    {
        // A tick queued before the repair ended (its timer disposed) still runs, with its token cancelled.
        if (cancellation.IsCancellationRequested) return;
        if (LabelRepairDue() is not { } node) return;
        if (_labelRepairAsk is { IsCompleted: false })
        {
            // An ask not answered in time still carries the labels it read: a second one could land before it. Checked
            // again soon, not at the backoff: it has not failed.
            AskAgainAfter(FirstLabelRepair);
            return;
        }
        var spec = state.State.Spec!;
        bool held;
        try
        {
            // The pod's incarnation, as every call to its node: a node holding another pod of the name answers false. A
            // refusal by a stopping silo is asked again at the next tick, as any failure.
            var ask = _labelRepairAsk = GrainFactory.Reference<INodeGrain>(node).Relabel(Name, spec.CreatedAt, spec.Labels);
            // An ask outliving its limit was logged as timed out, and the next tick asks again; its own late failure is
            // read here, so it is not left unobserved.
            _ = ask.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            held = await ask.WaitAsync(LabelRepairCallLimit, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The timer was disposed (the repair ended, or the activation stops): nothing failed, and nothing is asked again.
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Ended meanwhile (the pod deleted, finished or placed elsewhere, or its node took the labels by a relabel).
            if (_labelRepair is not { } repair || repair.Node != node) return;
            var failingFor = clock.GetUtcNow() - _labelRepairSince;
            if (!repair.FailureSaid)
            {
                _labelRepair = repair with { FailureSaid = true };
                // A stopping silo's refusal, or a call its stop broke, is healed by the next tick at the node's next
                // activation, normally: said at Information, and 1518 stays the Warning if it is not.
                if (SiloStopping.RefusingSilo(e) is not null || SiloStopping.BrokenByStop(e)) LogLabelsNotPlacedAsSiloStops(logger, Name, node, FailureRun.OneLine(e));
                else LogLabelsNotPlaced(logger, e, Name, node);
            }
            else if (failingFor >= LabelRepairWarnAfter && !_labelRepairWarned)
            {
                _labelRepairWarned = true;
                LogLabelRepairStillFailing(logger, e, Name, node, failingFor);
            }
            else LogLabelRepairFailed(logger, Name, node, FailureRun.OneLine(e));
            AskAgainAfter(_labelRepairDelay);
            _labelRepairDelay = Doubled(_labelRepairDelay);
            return;
        }
        // False: the node holds no pod of this incarnation (released, or taken by a pod of the name created again).
        if (held) NodeTookLabels(node);
        else EndedLabelRepair(node);
    }

    /// <summary>
    /// The activation ends with a repair pending: said loudly, as the node keeps counting other labels. Not stored for the
    /// next activation to resume: nothing wakes a bound pod after its silo stops (queue shards ask only waiting pods again),
    /// so a stored mark would wait unread until a client next calls the pod, and only a relabel that changes its labels
    /// reaches the node from an activation that knows of no repair.
    /// </summary>
    private void GiveUpLabelRepair()
    {
        if (_labelRepair is { Node: var node }) LogLabelRepairGivenUp(logger, Name, node);
        EndLabelRepair();
    }

    [LoggerMessage(EventId = 1522, Level = LogLevel.Information, Message = "Pod {Pod} was relabelled while its cycle placed it; node {Node}'s silo is stopping and did not take the new labels ({Error}); the node counts the old ones for other pods' affinity and spread until it takes them at its next activation (asked again)")]
    private static partial void LogLabelsNotPlacedAsSiloStops(ILogger logger, string pod, string node, string error);

    [LoggerMessage(EventId = 1517, Level = LogLevel.Information, Message = "Node {Node} took pod {Pod}'s labels after {Elapsed}; it counted other ones for other pods' affinity and spread until then")]
    private static partial void LogLabelsRepaired(ILogger logger, string pod, string node, TimeSpan elapsed);

    [LoggerMessage(EventId = 1518, Level = LogLevel.Warning, Message = "Node {Node} has not taken pod {Pod}'s labels for {Elapsed}; it counts other ones for other pods' affinity and spread, and is still asked again")]
    private static partial void LogLabelRepairStillFailing(ILogger logger, Exception error, string pod, string node, TimeSpan elapsed);

    [LoggerMessage(EventId = 1519, Level = LogLevel.Debug, Message = "Node {Node} again did not take pod {Pod}'s labels ({Error}); asked again later")]
    private static partial void LogLabelRepairFailed(ILogger logger, string pod, string node, string error);

    [LoggerMessage(EventId = 1520, Level = LogLevel.Information, Message = "Pod {Pod} no longer holds node {Node} (deleted, finished, or the node holds no pod of its incarnation); its labels there are no longer repaired")]
    private static partial void LogLabelRepairEnded(ILogger logger, string pod, string node);

    [LoggerMessage(EventId = 1521, Level = LogLevel.Warning, Message = "Pod {Pod} deactivated before node {Node} took its labels; the node counts other ones for other pods' affinity and spread until the pod's labels change")]
    private static partial void LogLabelRepairGivenUp(ILogger logger, string pod, string node);
}
