using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace MasOrleans.Grains.Pods;

/// <summary>A pod's deletion: its record first, then its container and node, then its shard's table; none waits for a dead silo.</summary>
public sealed partial class PodGrain
{
    /// <summary>
    /// The creation time of the last pod of this name this activation deleted: the one activation of the name stamps the
    /// next pod later than it (<see cref="AfterDeleted"/>), whatever its clock says.
    /// </summary>
    private DateTimeOffset? _deletedCreatedAt;

    /// <summary>Longer than a call's timeout (30 s, a late cycle's) and a nomination's hold (30 s).</summary>
    private static readonly TimeSpan DeletedGrace = TimeSpan.FromMinutes(1);

    private IGrainTimer? _deletedTimer;

    /// <summary>The deletion's steps after its record (<see cref="Unbind"/>), which may outlive the DELETE's answer.</summary>
    private Task _unbinding = Task.CompletedTask;

    private Task DeactivateIfStillDeleted(CancellationToken cancellation)
    {
        if (state.State.Spec is not null) return Task.CompletedTask;
        // Steps still waiting on unanswering silos (a release, then a nomination's forget, up to a call timeout each) would
        // be cut off, the listing's Untrack with them: the activation waits for them, a grace at a time.
        if (!_unbinding.IsCompleted) _deletedTimer?.Change(DeletedGrace, Timeout.InfiniteTimeSpan);
        else DeactivateOnIdle();
        return Task.CompletedTask;
    }

    /// <summary>
    /// <paramref name="now"/>, or a tick after the deleted pod's creation time when the clock is not past it (stepped back,
    /// or behind the clock of the silo that stamped the deleted pod): a pod created again is later than the deleted one,
    /// whose reservation its node then frees for it rather than refusing it as the deleted pod's late cycle.
    /// </summary>
    private DateTimeOffset AfterDeleted(DateTimeOffset now) =>
        _deletedCreatedAt is { } deleted && now <= deleted ? deleted.AddTicks(1) : now;

    public Task<Outcome> Delete(DateTimeOffset? podCreatedAt = null) =>
        state.State.Spec is { } spec && !PodSpec.SameIncarnation(spec.CreatedAt, podCreatedAt)
            ? Task.FromResult(Outcome.Conflict($"pod '{Name}' was deleted and created again since it was read"))
            : Remove(releaseNode: true);

    public async Task<bool> EvictForNodeDeletion(string node, string message)
    {
        // A pod that finished there is deleted as it is: gcOrphaned deletes every pod bound to a node that no longer exists,
        // and markFailedAndDeletePodWithCondition sets Failed and the DisruptionTarget condition only on a pod not yet
        // finished (pkg/controller/podgc/gc_controller.go), recording no event. It stayed listed with the gone node's name.
        if (state.State is { Spec: not null, Phase: PodPhase.Failed or PodPhase.Succeeded } finished && finished.NodeName == node)
        {
            await Remove(releaseNode: false);
            return true;
        }
        if (!await Evict(node, PodReasons.Drained, message)) return false;
        // The eviction stopped the container and released the node, which may since have removed itself.
        await Remove(releaseNode: false);
        return true;
    }

    private async Task<Outcome> Remove(bool releaseNode)
    {
        var s = state.State;
        if (s.Spec is null) return Outcome.NotFound($"pod '{Name}' not found");
        // Clear first: a scheduler that placed the pod meanwhile sees MarkScheduled refused and releases the node.
        await state.ClearStateAsync();
        state.State = new PodState();
        _deletedCreatedAt = s.Spec.CreatedAt;
        // Its node no longer holds it once released; a pod created again under the name is not this one (1520).
        if (_labelRepair is { Node: var repaired }) EndedLabelRepair(repaired);
        // A relabel of the deleted pod while it waited is not one of a pod created again under the name.
        _relabeledWhileWaiting = false;
        // A start waiting to retry is the deleted pod's (a pod created again and placed asks for its own).
        CancelPendingStart();
        // Not deactivated at once: the activation keeps the deleted pod's creation time for a pod created again under the
        // name while the deleted one's late cycles and nomination may still reach a node.
        _deletedTimer?.Dispose();
        _deletedTimer = this.RegisterGrainTimer(DeactivateIfStillDeleted, new GrainTimerCreationOptions(DeletedGrace, Timeout.InfiniteTimeSpan));
        _ = Shard.Remove(Name);
        // Its workload hears at once, as a ReplicaSet hears a pod's deletion, and replaces it (a deletion the workload
        // made itself only runs its pass again); it waited for the workload's next resync, Workloads__ResyncSeconds.
        if (s.Workload is { } workload) _ = GrainFactory.Reference<IWorkloadGrain>(workload).PodFinished(Name, s.Phase, PodReasons.Deleted);
        var removed = new PodEntry(Name, s.Phase, s.NodeName, NextVersion());
        var effects = _unbinding = Unbind(s, releaseNode, removed);
        try
        {
            await effects.WaitAsync(AnswerBudget);
        }
        catch (TimeoutException) when (!effects.IsCompleted)
        {
            // The record is gone, so the deletion is done: the caller hears so before its own call (no longer than those here)
            // times out, which answered 503 and a retry 404. What is left goes on, and logs its own end.
            LogAnsweredBeforeEffects(logger, Name, AnswerBudget);
            _ = Observe(effects);
        }
        LogDeleted(logger, Name, s.Phase, s.NodeName ?? "-");
        return Outcome.Success;
    }

    /// <summary>Within the callers' call timeout (<see cref="BatchAnswers.Budget"/>): calls made here may each wait as long.</summary>
    private TimeSpan AnswerBudget => BatchAnswers.Budget(messaging.Value.ResponseTimeout);

    /// <summary>A deleted pod's hold on the cluster, its record already gone: its container, node, nomination and listing.</summary>
    private async Task Unbind(PodState s, bool releaseNode, PodEntry removed)
    {
        try
        {
            // The deletion's own effects before the shard hears of it: they need neither the shard, whose silo may be dead
            // (the pod lives on where it was activated when its shard moved to a silo that joined since), nor the node's
            // silo to be alive (a release it did not take is asked again).
            if (releaseNode && s.NodeName is { } node)
            {
                await StopContainer();
                await ReleaseDeleted(node, s.Spec!.CreatedAt);
            }
            if (s.NominatedNodeName is { } nominated) await ForgetNomination(nominated, s.Spec!.CreatedAt);
        }
        finally
        {
            // The record is gone whatever happened to the node: the listing must not show the pod either.
            await Untrack(removed);
        }
    }

    private Task Observe(Task effects) => LoggedSteps.Run(() => effects, e => LogEffectsFailed(logger, e, Name));

    /// <summary>
    /// Takes the deleted pod out of its shard's table, so a client told the deletion is done no longer finds it listed.
    /// A shard leaving a silo that stops gracefully may carry its table to its next activation (OnRehydrate): the call
    /// it broke is asked again there (Track answers the same when asked twice). A shard whose silo is gone otherwise lost
    /// its table with it: its next activation reads the pods' records, where this one is gone, so the deletion stands as
    /// done. A shard that did not answer in time may still list the pod: said loudly.
    /// </summary>
    private async Task Untrack(PodEntry removed)
    {
        try
        {
            await SiloStopping.AskedAgainOnceStoppingSilosAreGone(membership, silo.SiloAddress, async () =>
            {
                await Shard.Track(removed, removed: true);
                return true;
            });
        }
        catch (Exception e) when (e is SiloUnavailableException or OrleansMessageRejectionException)
        {
            LogShardGone(logger, Name, FailureRun.OneLine(e));
        }
        catch (TimeoutException e)
        {
            LogShardLate(logger, e, Name);
        }
    }

    /// <summary>Releases of deleted pods' rooms that their nodes did not take yet (their silo was dead), by node and pod creation time.</summary>
    private readonly List<(string Node, DateTimeOffset? PodCreatedAt)> _unreleased = [];

    private IGrainTimer? _releaseTimer;

    /// <summary>How often a node that did not take a deleted pod's release is asked again (it is back once its dead silo is declared so).</summary>
    private static readonly TimeSpan ReleaseRetry = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Frees the deleted pod's room on <paramref name="node"/>. A node whose silo is unavailable is asked again every
    /// <see cref="ReleaseRetry"/> while this activation keeps the deleted pod (<see cref="DeletedGrace"/>), so the deletion
    /// is done for the client at once: its record is gone, and the room follows as soon as the node is reachable.
    /// </summary>
    private async Task ReleaseDeleted(string node, DateTimeOffset? podCreatedAt)
    {
        // Pending from the first ask: that call may wait a call timeout on a silo that died undeclared, and the shard's
        // reconciliation asking meanwhile (ReleasePending) must leave the room to it as to a retry.
        var release = (node, podCreatedAt);
        _unreleased.Add(release);
        if (await TryRelease(node, podCreatedAt) is not { } unavailable)
        {
            _unreleased.Remove(release);
            return;
        }
        LogReleasePending(logger, Name, node, unavailable);
        _releaseTimer ??= this.RegisterGrainTimer(ReleaseAgain, new GrainTimerCreationOptions(ReleaseRetry, ReleaseRetry));
    }

    public Task<bool> ReleasePending(string node, DateTimeOffset? podCreatedAt) =>
        Task.FromResult(_unreleased.Exists(r => r.Node == node && PodSpec.SameIncarnation(r.PodCreatedAt, podCreatedAt)));

    /// <summary>Null when the node took the release, else why it could not be asked.</summary>
    private async Task<string?> TryRelease(string node, DateTimeOffset? podCreatedAt)
    {
        try
        {
            await GrainFactory.Reference<INodeGrain>(node).Release(Name, podCreatedAt);
            return null;
        }
        catch (Exception e) when (e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException)
        {
            return FailureRun.OneLine(e);
        }
    }

    private async Task ReleaseAgain(CancellationToken cancellation)
    {
        foreach (var release in _unreleased.ToList())
        {
            if (await TryRelease(release.Node, release.PodCreatedAt) is { } unavailable)
            {
                LogReleaseStillPending(logger, Name, release.Node, unavailable);
                continue;
            }
            _unreleased.Remove(release);
            LogReleased(logger, Name, release.Node);
        }
        if (_unreleased.Count > 0) return;
        _releaseTimer?.Dispose();
        _releaseTimer = null;
    }

    /// <summary>The activation ends with releases its nodes never took: said loudly, as the rooms stay held until their shards' reconciliation frees them.</summary>
    private void GiveUpReleases()
    {
        foreach (var (node, _) in _unreleased) LogReleaseGivenUp(logger, Name, node);
        _unreleased.Clear();
    }

    [LoggerMessage(EventId = 2304, Level = LogLevel.Information, Message = "Pod {Pod} deleted (was {Phase} on {Node})")]
    private static partial void LogDeleted(ILogger logger, string pod, PodPhase phase, string node);

    [LoggerMessage(EventId = 1509, Level = LogLevel.Information, Message = "Pod {Pod} deleted; answered after {Budget} while its node, nomination or queue shard had not answered yet (each is still asked)")]
    private static partial void LogAnsweredBeforeEffects(ILogger logger, string pod, TimeSpan budget);

    [LoggerMessage(EventId = 1510, Level = LogLevel.Error, Message = "Pod {Pod} deleted, but freeing what it held failed after its deletion was answered")]
    private static partial void LogEffectsFailed(ILogger logger, Exception error, string pod);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "Pod {Pod} deleted while its queue shard's silo is unavailable ({Error}); the shard's next activation reads the pods' records, where it is gone")]
    private static partial void LogShardGone(ILogger logger, string pod, string error);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "Pod {Pod} deleted, but its queue shard did not answer in time; listings may show it until the shard's next activation")]
    private static partial void LogShardLate(ILogger logger, Exception error, string pod);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Pod {Pod} deleted while node {Node} is unavailable ({Error}); its release is asked again until the node answers")]
    private static partial void LogReleasePending(ILogger logger, string pod, string node, string error);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Debug, Message = "Deleted pod {Pod}'s node {Node} is still unavailable ({Error})")]
    private static partial void LogReleaseStillPending(ILogger logger, string pod, string node, string error);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Information, Message = "Deleted pod {Pod}'s room on node {Node} released once the node answered")]
    private static partial void LogReleased(ILogger logger, string pod, string node);

    [LoggerMessage(EventId = 1508, Level = LogLevel.Warning, Message = "Deleted pod {Pod}'s node {Node} never answered its release while the pod's activation lasted; the node holds the room until its shard's reconciliation frees it")]
    private static partial void LogReleaseGivenUp(ILogger logger, string pod, string node);
}
