using System.Diagnostics;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Learning;
using MasOrleans.Grains.Metrics;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Queue;
using MasOrleans.Scheduling.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// One shard of the scheduling queue and the scheduling agent for its pods: the core's <see cref="SchedulingQueue{T}"/>
/// in the configured order (priority, SJF or DRF) with backoff, and up to <see cref="SchedulerOptions.MaxInFlight"/> scheduling cycles
/// (<see cref="SchedulingCycle"/>) at a time over this silo's <see cref="SiloClusterView"/>. Nothing is persisted: the
/// pods are, and on activation the shard asks its waiting pods to enqueue again. It also keeps its pods' phases
/// (<see cref="ShardPodTable"/>), which the index merges for listings and counts: a pod's change costs no call.
/// </summary>
/// <remarks>
/// Reentrant: a cycle spends most of its time awaiting node and pod grains, so cycles interleave. Safe because every
/// queue change happens between awaits and every cluster read or change inside the view's exclusive step.
/// </remarks>
[GrainType("mas-scheduling-queue")]
[ShardPlacement]
[Reentrant]
public sealed partial class SchedulingQueueGrain(
    IOptions<SchedulerOptions> options,
    SiloClusterView view,
    LocalShards localShards,
    PodActivationTable activationTable,
    IPodHostClient hosts,
    IPodDirectory directory,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    TimeProvider clock,
    NodeReserver reserver,
    ILogger<SchedulingQueueGrain> logger,
    LearnedModels? learnedModels = null) : Grain, ISchedulingQueueGrain, IGrainMigrationParticipant
{
    private const string MigratedPods = "pods", MigratedDeletions = "deletions";

    private readonly SchedulingQueue<PodSpec> _queue = new(
        QueueOrders.TryParse(options.Value.QueueOrder, out var order) ? order : QueueOrder.Priority,
        new BackoffPolicy(TimeSpan.FromMilliseconds(options.Value.InitialBackoffMilliseconds), TimeSpan.FromMilliseconds(options.Value.MaxBackoffMilliseconds)),
        TimeSpan.FromSeconds(options.Value.MaxInUnschedulableSeconds),
        view.DominantShare,
        TimeSpan.FromSeconds(options.Value.SjfMaxWaitSeconds));
    private readonly Dictionary<string, InFlightCycle> _inFlight = new(StringComparer.Ordinal);
    private readonly ShardPodTable _pods = new();
    private readonly FailureRun _cycleFailures = new();
    /// <summary>The pod table came with the shard from its previous silo (<see cref="OnRehydrate"/>).</summary>
    private bool _rehydrated;
    private SchedulingCycle _cycle = null!;
    private IGrainTimer? _backoffTimer;
    private DateTimeOffset? _backoffTimerDue;
    private bool _awaitingView;

    private int Shard => int.Parse(this.GetPrimaryKeyString(), System.Globalization.CultureInfo.InvariantCulture);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The cycle continues on this grain's scheduler, so the bound pod's entry is recorded without a call of its own.
        var ports = new GrainCyclePorts(GrainFactory, logger, entry => PodChanged(entry), reserver, view.NominationStored);
        _cycle = new SchedulingCycle(view.Schedulers, view, ports, ports, ports,
            new CycleOptions { MaxAttempts = options.Value.MaxAttempts, Preemption = options.Value.Preemption },
            new Random(options.Value.ShardSeed(Shard)));
        localShards.Add(this.GetPrimaryKeyString(), this.AsReference<ISchedulingQueueGrain>());
        await OpenActivations();
        // Stuck cycles are abandoned and their pods queued again; checked a few times per timeout. The sweep's Pump also
        // hands out unschedulable pods that waited MaxInUnschedulableSeconds for an event (kube checks every 30 s).
        var sweep = TimeSpan.FromSeconds(Math.Max(1, options.Value.InFlightTimeoutSeconds / 3.0));
        this.RegisterGrainTimer(Sweep, new GrainTimerCreationOptions(sweep, sweep) { KeepAlive = true });
        var reconcile = TimeSpan.FromSeconds(options.Value.ReconcileSeconds);
        this.RegisterGrainTimer(ReconcileReservations, new GrainTimerCreationOptions(reconcile, reconcile) { KeepAlive = true });
        // A silo that joined after this shard activated may be its home: checked every second, moved once idle.
        var home = TimeSpan.FromSeconds(1);
        this.RegisterGrainTimer(_ =>
        {
            MoveHomeWhenIdle();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(home, home) { KeepAlive = true });
        IReadOnlyList<string> waiting, exiting;
        try
        {
            (waiting, exiting) = await PodsToAsk();
        }
        catch
        {
            // Orleans does not deactivate an activation that failed to activate: nothing of it may stay on the silo.
            localShards.Remove(this.GetPrimaryKeyString());
            CloseActivations();
            throw;
        }
        // Activated on a silo that is stopping (a call reached the shard there): its next activation, elsewhere, asks them.
        if (!localShards.Stopping)
            foreach (var pod in waiting.Concat(exiting)) AskToEnqueue(pod);
        LogActivated(logger, Shard, _queue.Order, waiting.Count, exiting.Count);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        localShards.Remove(this.GetPrimaryKeyString());
        var shards = options.Value.QueueShards;
        view.ForgetNominations(pod => QueueShards.Of(pod, shards) == Shard);
        CloseActivations();
        return Task.CompletedTask;
    }

    public Task Ping() => Task.CompletedTask;

    public async Task Enqueue(PodSpec pod, string? nominatedNode = null, long nominationVersion = 0)
    {
        // A request sent while the pod waited (a Retry is one-way) can arrive after its cycle bound it: a second cycle
        // would only confirm the placement, and count it again. A pod never waits again once it holds a node.
        if (_pods.TryGet(pod.Name, out var listed) && listed.Phase.HoldsNode()) return;
        // Before it is queued, so its own cycle and those after it count it there.
        if (nominatedNode is not null) await view.KeepStoredNomination(nominatedNode, pod, nominationVersion);
        await Queue(pod);
    }

    private Task Queue(PodSpec pod)
    {
        // Waiting since its creation (stored with the pod), so a shard that activates afresh keeps the pod's wait.
        _queue.Add(pod.Name, pod.Priority, pod.ExpectedDurationSeconds, pod, pod.Namespace, pod.CreatedAt ?? clock.GetUtcNow());
        Pump();
        return Task.CompletedTask;
    }

    public Task Remove(string pod)
    {
        _queue.Remove(pod);
        _inFlight.Remove(pod);
        _askOnceGone.Remove(pod);
        view.ForgetAssumed(pod);
        Pump();
        return Task.CompletedTask;
    }

    public Task NominationCleared(string pod, string node, long version)
    {
        view.ForgetNomination(pod, node, version);
        return Task.CompletedTask;
    }

    public Task ClusterChanged()
    {
        var moved = _queue.MoveAllToActive(clock.GetUtcNow());
        if (moved > 0) LogEligible(logger, Shard, moved);
        Pump();
        return Task.CompletedTask;
    }

    public Task AssignedPodAdded()
    {
        var moved = _queue.MoveToActive(QueueingHints.CountsBoundPods, clock.GetUtcNow());
        if (moved > 0) LogEligible(logger, Shard, moved);
        Pump();
        return Task.CompletedTask;
    }

    public Task PodChanged(PodEntry entry)
    {
        _pods.Apply(entry);
        return Task.CompletedTask;
    }

    public Task Track(PodEntry entry, bool removed = false)
    {
        if (removed) _pods.Remove(entry);
        else _pods.Apply(entry);
        return Task.CompletedTask;
    }

    public Task Admit(PodEntry entry, PodSpec pod)
    {
        _pods.Apply(entry);
        // Queued whatever the table says: a creation is always a waiting pod (the table may still list a deleted one's entry).
        return Queue(pod);
    }

    public Task<Page<PodEntry>> ListPods(int offset, int limit, string? after) => Task.FromResult(_pods.Page(offset, limit, after));

    public Task<Dictionary<PodPhase, int>> CountPods() => Task.FromResult(_pods.CountByPhase());

    /// <summary>
    /// Starts cycles in queue order while the in-flight window has room; while it still has room, arms one timer for the
    /// next backoff expiry.
    /// </summary>
    /// <remarks>
    /// A full window is refilled by the next cycle to finish (or the sweep), never by the timer: with a backoff already
    /// due, the timer would be armed with no delay, and Orleans queues such a tick at once, so each tick armed the next
    /// and the shard's turns went to ticks alone. Its cycles' continuations then never ran, the window stayed full,
    /// and every cycle in it waited for the sweep (a whole shard's pods "did not finish in 30 s", docs/benchmarks.md).
    /// </remarks>
    private void Pump()
    {
        if (localShards.Stopping) return;
        var now = clock.GetUtcNow();
        while (_inFlight.Count < options.Value.MaxInFlight && _queue.TryPop(now, out var next))
        {
            var cycle = new InFlightCycle(now, Stopwatch.GetTimestamp(), next.Item.Policy ?? view.DefaultPolicy);
            _inFlight[next.Name] = cycle;
            _ = Run(next.Item, cycle);
        }
        if (_inFlight.Count >= options.Value.MaxInFlight) return;
        ArmBackoffTimer();
        // Room, and pods active, yet none handed out: the order waits for the view (drf's shares are not known before it
        // starts); the other orders never hold a pod back.
        if (_queue.ActiveCount > 0 && !view.Ready.IsCompleted) _ = PumpOnceViewStarts();
    }

    private async Task PumpOnceViewStarts()
    {
        if (_awaitingView) return;
        _awaitingView = true;
        await view.Ready;
        _awaitingView = false;
        Pump();
    }

    /// <summary>
    /// A learned policy's first decision on this silo loads its model (a second or more): on the thread pool, so the
    /// shard's turn, and every other pod of the shard, does not wait for it.
    /// </summary>
    /// <remarks>
    /// A model that does not load (unreadable weights, a version of another layout in the registry, or none at all: a
    /// learned cluster default on a silo restarted without its model) fails the cycle, and the pod says why: it waited
    /// Pending with no event, its cycles failing in the log alone. The log has its stack once per run of such failures
    /// (<see cref="FailureRun"/>), not a Warning per retry of every waiting pod: the pods' events say why, and a missing
    /// default's model is what readiness reports.
    /// </remarks>
    /// <returns>False when the policy's model does not load (the cycle is not run; the pod is queued again after backoff).</returns>
    private async ValueTask<bool> LoadModelOffTurn(PodSpec pod, string policy)
    {
        // No file check here (it would run on every cycle of a policy whose model is missing): a missing model throws from
        // Slot as it would from the catalog.
        if (learnedModels is null || !LearnedModels.IsKnown(policy)) return true;
        try
        {
            await learnedModels.LoadOffTurn(policy);
            return true;
        }
        catch (Exception e) when (LearnedModels.IsLoadFailure(e))
        {
            if (_cycleFailures.Starts(e)) LogCycleFailed(logger, e, pod.Name);
            await GrainFactory.Reference<IPodGrain>(pod.Name).MarkUnschedulable(learnedModels.LoadFailureMessage(policy, e), podCreatedAt: pod.CreatedAt);
            return false;
        }
    }

    private async Task Schedule(PodSpec pod, InFlightCycle cycle)
    {
        CycleResult? result = null;
        try
        {
            if (await LoadModelOffTurn(pod, cycle.Policy)) result = await _cycle.Run(pod);
        }
        catch (NodeSiloStoppingException e)
        {
            // A graceful stop, not a failure: the node's next activation, on another silo, takes the pod (after its backoff).
            LogRefusedByStoppingSilo(logger, pod.Name, e.Message);
        }
        catch (Exception e)
        {
            // Loud: a failing cycle is a defect or an outage. The pod is queued again after its backoff, never stranded.
            // An outage fails every cycle: its stack once per run, then a line per pod.
            if (_cycleFailures.Starts(e)) LogCycleFailed(logger, e, pod.Name);
            else LogCycleFailedAgain(logger, pod.Name, FailureRun.OneLine(e));
        }
        // A cycle abandoned by the sweep was counted there, as a timeout, and its pod queued again: a newer cycle owns the
        // pod and counts its own outcome (this one's late verdict counted too made one placement two).
        if (!_inFlight.TryGetValue(pod.Name, out var current) || !ReferenceEquals(current, cycle)) return;
        _inFlight.Remove(pod.Name);
        switch (result?.Verdict)
        {
            case null: MasMeters.RecordDecision(PolicyLabel(cycle.Policy), cycle.StartedTimestamp, SchedulingFailureReasons.Error); break;
            case CycleVerdict.Bound: SchedulingTelemetry.Scheduled(logger, pod.Name, PolicyLabel(result.Policy), result.Node!, cycle.StartedTimestamp); break;
            case CycleVerdict.Gone: break;
            default: SchedulingTelemetry.Failed(logger, pod.Name, PolicyLabel(result.Policy), result.Reason!, result.Message!, cycle.StartedTimestamp); break;
        }
        var now = clock.GetUtcNow();
        switch (result?.Verdict)
        {
            case CycleVerdict.Bound or CycleVerdict.Gone: _queue.Done(pod.Name); break;
            case CycleVerdict.Unschedulable: _queue.MarkUnschedulable(pod.Name, now); break;
            default: _queue.Requeue(pod.Name, now); break;
        }
        Pump();
    }

    /// <summary>
    /// The policy an attempt is counted under: the catalog's spelling, so a default configured as "FGD" is fgd's series, not
    /// one of its own, and a name the catalog does not know (a pod stored before its profile was removed) is
    /// <see cref="MasMeters.UnknownPolicy"/>, not a new series per name. A learned policy whose model this silo lacks (a
    /// learned cluster default on a silo restarted without it) is not in this silo's catalog, yet is no unknown name: its
    /// failed attempts are counted under its own, one of the few learned algorithms.
    /// </summary>
    private string PolicyLabel(string policy) =>
        view.Schedulers.Canonical(policy) ?? (LearnedModels.IsKnown(policy) ? policy : MasMeters.UnknownPolicy);

    private void ArmBackoffTimer()
    {
        if (_queue.NextBackoffExpiry is not { } due || (_backoffTimerDue is { } armed && armed <= due)) return;
        _backoffTimer?.Dispose();
        _backoffTimerDue = due;
        var delay = due - clock.GetUtcNow();
        _backoffTimer = this.RegisterGrainTimer(_ =>
        {
            _backoffTimer?.Dispose();
            _backoffTimer = null;
            _backoffTimerDue = null;
            Pump();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private Task Sweep(CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var timeout = TimeSpan.FromSeconds(options.Value.InFlightTimeoutSeconds);
        foreach (var (pod, cycle) in _inFlight.Where(kv => now - kv.Value.Since > timeout).ToList())
        {
            LogAbandoned(logger, pod, timeout);
            MasMeters.RecordDecision(PolicyLabel(cycle.Policy), cycle.StartedTimestamp, SchedulingFailureReasons.Timeout);
            _inFlight.Remove(pod);
            _queue.Requeue(pod, now);
        }
        AskThoseWhoseSiloIsGone();
        Pump();
        return Task.CompletedTask;
    }

    /// <summary>A move to another silo carries the pod table: no re-read of every pod record, and memory storage (which
    /// cannot be listed) keeps its listing.</summary>
    public void OnDehydrate(IDehydrationContext context)
    {
        var (pods, deletions) = _pods.Snapshot();
        context.TryAddValue(MigratedPods, pods);
        context.TryAddValue(MigratedDeletions, deletions);
        context.TryAddValue(MigratedActivations, CloseActivations());
        // A move decided after this silo began to stop (its membership still shows it active until it announces the stop).
        if (localShards.Stopping) context.TryAddValue(MigratedFromStoppingSilo, silo.SiloAddress);
    }

    public void OnRehydrate(IRehydrationContext context)
    {
        if (!context.TryGetValue<List<PodEntry>>(MigratedPods, out var pods) || pods is null) return;
        context.TryGetValue<Dictionary<string, long>>(MigratedDeletions, out var deletions);
        _pods.Restore(pods, deletions ?? []);
        if (context.TryGetValue<List<GrainAddress>>(MigratedActivations, out var activations)) _migratedActivations = activations;
        if (context.TryGetValue<SiloAddress>(MigratedFromStoppingSilo, out var left) && left is not null) _stoppingSilos.Add(left);
        _rehydrated = true;
    }

    /// <summary>A silo joined since this shard activated: move to the silo the placement now names, once nothing is in flight.</summary>
    private void MoveHomeWhenIdle()
    {
        if (_inFlight.Count > 0 || _queue.ActiveCount + _queue.BackoffCount > 0) return;
        var snapshot = membership.CurrentSnapshot;
        // Not while this silo stops (no silo would be left to place the move on) or while the table still lists an
        // older incarnation of it as active (a restart on the same endpoint, dead but not yet declared so).
        if (snapshot.GetSiloStatus(silo.SiloAddress) != SiloStatus.Active) return;
        var active = snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && (m.SiloAddress.Equals(silo.SiloAddress) || !m.SiloAddress.Endpoint.Equals(silo.SiloAddress.Endpoint)))
            .Select(m => m.SiloAddress).ToList();
        if (ShardPlacementDirector.SiloFor(Shard, active).Equals(silo.SiloAddress)) return;
        this.MigrateOnIdle();
    }

    /// <summary>A cycle under way: since when (the sweep's clock), its start for the latency histogram, and its policy.</summary>
    private sealed record InFlightCycle(DateTimeOffset Since, long StartedTimestamp, string Policy);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Queue shard {Shard} activated ({Order} order); {Count} waiting pod(s) asked to enqueue again, {Exiting} running pod(s) with a planned exit woken")]
    private static partial void LogActivated(ILogger logger, int shard, QueueOrder order, int count, int exiting);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Shard {Shard}: cluster changed, {Moved} unschedulable pod(s) eligible again")]
    private static partial void LogEligible(ILogger logger, int shard, int moved);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Error, Message = "Scheduling cycle for pod {Pod} failed; queued again after backoff")]
    private static partial void LogCycleFailed(ILogger logger, Exception error, string pod);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Warning, Message = "Scheduling cycle for pod {Pod} failed; queued again after backoff ({Error}; the same run of failures of its kind as the one logged with its exception before)")]
    private static partial void LogCycleFailedAgain(ILogger logger, string pod, string error);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Information, Message = "Scheduling cycle for pod {Pod} refused by a node on a stopping silo ({Reason}); queued again")]
    private static partial void LogRefusedByStoppingSilo(ILogger logger, string pod, string reason);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Pod {Pod}'s scheduling cycle did not finish in {Timeout}; queued again")]
    private static partial void LogAbandoned(ILogger logger, string pod, TimeSpan timeout);

}
