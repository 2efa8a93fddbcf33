using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Pods;

/// <summary>
/// A node that may count other labels for this pod than the pod stores (its relabel failed, 1511/1512/1513, or was refused
/// by a stopping silo after an earlier broken attempt may have landed): the node keeps counting them for other pods'
/// affinity and spread, so it is asked again for the pod's labels until it takes them, and at the pod's next relabel even
/// when the labels did not change. Memory only: see <see cref="GiveUpLabelRepair"/>.
/// </summary>
public sealed partial class PodGrain
{
    /// <summary>The node whose labels for this pod may differ from the pod's, while this activation holds it; null when none may.</summary>
    private string? _labelsMayDifferOn;

    private IGrainTimer? _labelRepairTimer;
    private TimeSpan _labelRepairDelay;
    private DateTimeOffset _labelRepairSince;
    private bool _labelRepairWarned;

    /// <summary>The first ask again comes soon (a lost answer); then the wait doubles up to this, for an outage.</summary>
    private static readonly TimeSpan FirstLabelRepair = TimeSpan.FromSeconds(1), LongestLabelRepair = TimeSpan.FromSeconds(30);

    /// <summary>A repair still failing this long is said once at Warning; the failures before are already loud (1511-1513), their repeats Debug.</summary>
    private static readonly TimeSpan LabelRepairWarnAfter = TimeSpan.FromMinutes(5);

    /// <summary>Once the failure was logged: <paramref name="node"/> may count other labels for the pod; it is asked again, with backoff.</summary>
    private void NodeLabelsMayDiffer(string node)
    {
        if (_labelsMayDifferOn != node)
        {
            _labelsMayDifferOn = node;
            _labelRepairSince = clock.GetUtcNow();
            _labelRepairWarned = false;
        }
        _labelRepairDelay = FirstLabelRepair;
        // Kept alive while it repairs: an idle activation's collection would take the repair with it.
        if (_labelRepairTimer is null)
            _labelRepairTimer = this.RegisterGrainTimer(RepairNodeLabels, new GrainTimerCreationOptions(_labelRepairDelay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        else _labelRepairTimer.Change(_labelRepairDelay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The node the pending repair is for, while the pod still holds it; a pod deleted, finished or placed elsewhere ends the repair.</summary>
    private string? LabelRepairDue()
    {
        if (_labelsMayDifferOn is not { } node) return null;
        if (state.State is { Spec: not null, NodeName: { } held } s && s.Phase.HoldsNode() && held == node) return node;
        LogLabelRepairEnded(logger, Name, node);
        EndLabelRepair();
        return null;
    }

    /// <summary>The node took the pod's labels (a relabel, or a repair): any repair pending for it is done.</summary>
    private void NodeTookLabels(string node)
    {
        if (_labelsMayDifferOn != node) return;
        LogLabelsRepaired(logger, Name, node, clock.GetUtcNow() - _labelRepairSince);
        EndLabelRepair();
    }

    private void EndLabelRepair()
    {
        _labelsMayDifferOn = null;
        _labelRepairTimer?.Dispose();
        _labelRepairTimer = null;
    }

    private async Task RepairNodeLabels(CancellationToken cancellation)
    {
        if (LabelRepairDue() is not { } node) return;
        var spec = state.State.Spec!;
        bool held;
        try
        {
            // The pod's incarnation, as every call to its node: a node holding another pod of the name answers false.
            held = await SiloStopping.AskedAgainOnceAnnounced(membership, silo.SiloAddress, SchedulingSiloService.RefusalToAnnouncement,
                () => GrainFactory.Reference<INodeGrain>(node).Relabel(Name, spec.CreatedAt, spec.Labels));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The labels or the placement may have changed while it was asked: the next tick judges again.
            if (_labelsMayDifferOn != node) return;
            var failingFor = clock.GetUtcNow() - _labelRepairSince;
            if (failingFor >= LabelRepairWarnAfter && !_labelRepairWarned)
            {
                _labelRepairWarned = true;
                LogLabelRepairStillFailing(logger, e, Name, node, failingFor);
            }
            else LogLabelRepairFailed(logger, Name, node, FailureRun.OneLine(e));
            _labelRepairDelay = TimeSpan.FromTicks(Math.Min(_labelRepairDelay.Ticks * 2, LongestLabelRepair.Ticks));
            _labelRepairTimer?.Change(_labelRepairDelay, Timeout.InfiniteTimeSpan);
            return;
        }
        if (held) NodeTookLabels(node);
        else
        {
            // The node holds no pod of this incarnation (released, or taken by a pod of the name created again): nothing there to repair.
            LogLabelRepairEnded(logger, Name, node);
            EndLabelRepair();
        }
    }

    /// <summary>
    /// The activation ends with a repair pending: said loudly, as the node keeps counting other labels. Not stored for the
    /// next activation to resume: nothing wakes a bound pod after its silo stops (queue shards ask only waiting pods again),
    /// so a stored mark would wait unread until a client next calls the pod, whose relabel then repairs it anyway.
    /// </summary>
    private void GiveUpLabelRepair()
    {
        if (_labelsMayDifferOn is { } node) LogLabelRepairGivenUp(logger, Name, node);
        EndLabelRepair();
    }

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
