using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.GrainDirectory;
using Orleans.Runtime;

namespace MasOrleans.Grains.Pods;

/// <summary>
/// A task agent: owns one pod's lifecycle; placement comes from its queue shard's scheduling cycle, resources from a
/// node grain. It lives on its shard's silo and is the truth for its own phase. It writes its state twice on the way
/// to Running (accepted as Pending, then Running with its container); Scheduled is held in memory only, because a
/// crash in between leaves the node's reservation, which the next cycle finds and completes. An activation that stops
/// while Scheduled (its silo's graceful stop) writes it then (<see cref="OnDeactivateAsync"/>).
/// </summary>
[GrainType("mas-pod")]
[ShardPlacement]
[GrainDirectory(GrainDirectoryName = PodActivationDirectory.Name)]
public sealed partial class PodGrain(
    [PersistentState("pod")] IPersistentState<PodState> state,
    IOptions<SchedulerOptions> schedulerOptions,
    IContainerRuntime runtime,
    TimeProvider clock,
    IOptions<SiloMessagingOptions> messaging,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    ILogger<PodGrain> logger) : Grain, IPodGrain
{
    public const string MainContainer = "main";

    /// <summary>A container start is under way (in memory only: after a crash the grain starts afresh).</summary>
    private bool _starting;

    private string Name => this.GetPrimaryKeyString();
    private ISchedulingQueueGrain Shard => GrainFactory.Reference<ISchedulingQueueGrain>(QueueShards.Key(QueueShards.Of(Name, schedulerOptions.Value.QueueShards)));
    private PodContainer Container => _container ??= new PodContainer(runtime, clock, $"{Name}/{MainContainer}");
    private PodContainer? _container;
    private IGrainTimer? _exitTimer;

    /// <summary>The pod's status.startTime, from which its active deadline counts: <see cref="PodStartTime"/>.</summary>
    private DateTimeOffset? StartTime => PodStartTime.Of(state.State.NodeName, state.State.Events, state.State.CreatedAt);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Bound but never started (stored by an older version): start the container now.
        if (state.State is { Spec: not null, Phase: PodPhase.Scheduled }) StartContainerSoon();
        // Running before a restart: its container runs on (and exits when it planned to).
        if (state.State is { Spec: not null, Phase: PodPhase.Running, Container: { } container } && Container.Restore(container)) ArmExit();
        return Task.CompletedTask;
    }

    /// <summary>
    /// A pod placed but not yet started keeps its placement: forgotten, it was Pending again in its next activation,
    /// which took the placement of a second cycle (one in flight on another silo when this one stopped) on another node
    /// while the first node still held it. Stored, the next activation refuses that and starts the container here.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        GiveUpReleases();
        GiveUpLabelRepair();
        if (state.State is not { Spec: not null, Phase: PodPhase.Scheduled, NodeName: { } node }) return;
        // A failure leaves it as after a crash: the node keeps the reservation, which the pod's next cycle finds and completes.
        await LoggedSteps.Run(() => state.WriteStateAsync(cancellationToken), e => LogPlacementNotStored(logger, e, Name, node));
    }

    public async Task<PodCreation> Create(PodSpec spec, string? workload, IReadOnlyDictionary<string, string>? annotations = null, string? containerName = null, string? manifest = null)
    {
        if (state.State.Spec is not null)
        {
            // A silo that died between storing the pod and indexing/queueing it left the client without an answer;
            // its retry lands here, so repair the pod's registration before refusing the duplicate.
            if (state.State.Phase.IsWaiting()) RequestScheduling();
            Report();
            return new PodCreation(Outcome.Conflict($"pod '{spec.Name}' already exists"));
        }
        // The spec names its incarnation, so the reservation and bind its cycles make are for this pod of the name alone. A
        // pod Kubernetes created (the extender's) keeps Kubernetes' time: its node reserved for it under that time already.
        var createdAt = spec.CreatedAt ?? AfterDeleted(clock.GetUtcNow());
        var before = state.State;
        state.State = new PodState
        {
            Spec = spec with { CreatedAt = createdAt }, Workload = workload, CreatedAt = createdAt, Annotations = annotations is { Count: > 0 } ? annotations : null, ContainerName = containerName,
            Manifest = manifest,
        };
        AddEvent("Normal", "Created", AcceptedMessage(spec.Policy));
        await state.WriteOrRestore(before);
        // Listed (in the shard's pod table) before the client hears 202, and queued: one call. A shard leaving a silo
        // that stops gracefully is asked again at its next activation (Admit answers the same when asked twice).
        var stored = state.State.Spec;
        await SiloStopping.AskedAgainOnceStoppingSilosAreGone(membership, silo.SiloAddress, async () =>
        {
            await Shard.Admit(Entry(), stored);
            return true;
        });
        return new PodCreation(Outcome.Success, View());
    }

    /// <summary>The Created event's message: one string for every pod of the cluster default policy (most pods name none), not a copy each.</summary>
    internal static string AcceptedMessage(string? policy) => policy is null ? AcceptedForDefaultPolicy : $"pod accepted; waiting for policy '{policy}'";

    private const string AcceptedForDefaultPolicy = "pod accepted; waiting for policy '(cluster default)'";

    public Task<PodView?> Get() => Task.FromResult(View());

    private PodView? View()
    {
        var s = state.State;
        return s.Spec is null ? null
            : new PodView(s.Spec, s.Phase, s.NodeName, s.Gpus, s.Events, s.Scores, s.ScheduledBy, s.Workload, s.CreatedAt, s.Reason, s.Annotations, s.ContainerName,
                s.NominatedNodeName, s.Manifest);
    }

    public async Task<PodEntry?> MarkScheduled(Placement placement)
    {
        var s = state.State;
        // A placement made for a pod of this name deleted since is not this pod's: refused, its cycle releases it.
        if (s.Spec is null || !PodSpec.SameIncarnation(s.Spec.CreatedAt, placement.PodCreatedAt)) return null;
        if (!s.Phase.IsWaiting())
            return s.NodeName == placement.Node && s.Phase.HoldsNode() ? Entry() : null;
        // A bound pod is nominated nowhere (kube 1.35 clears status.nominatedNodeName on binding, feature gate
        // ClearingNominatedNodeNameAfterBinding).
        state.State = s with
        {
            Phase = PodPhase.Scheduled, NodeName = placement.Node, Gpus = placement.Gpus, Scores = placement.Scores, ScheduledBy = placement.Policy, Reason = null,
            NominatedNodeName = null,
        };
        var gpus = placement.Gpus;
        var devices = gpus.IsNone ? "" : $" (GPU devices {string.Join(",", gpus.Devices)} x {gpus.MilliPerDevice}m)";
        AddEvent("Normal", PodStartTime.ScheduledReason, $"Successfully assigned {Name} to {placement.Node}{devices} by policy '{placement.Policy}'");
        // Not persisted: the node holds the reservation, and the Running write follows as soon as the container starts.
        // The relabel's timer first: its turn is then normally queued ahead of the start's, rather than behind the image
        // pull and the Running write.
        if (_relabeledWhileWaiting) RelabelPlacement(placement.Node);
        StartContainerSoon();
        // The nominated node's reserve dropped the hold itself; another node's hold would keep room from others for nothing.
        if (s.NominatedNodeName is { } nominated && nominated != placement.Node) await ForgetNomination(nominated, s.Spec.CreatedAt);
        return Entry();
    }

    public async Task MarkUnschedulable(string message, bool clearNomination = false, DateTimeOffset? podCreatedAt = null)
    {
        // The failure of a pod of this name deleted since (its late cycle) is not this pod's.
        var s = state.State;
        if (s.Spec is null || !s.Phase.IsWaiting() || !PodSpec.SameIncarnation(s.Spec.CreatedAt, podCreatedAt)) return;
        var nominated = clearNomination ? s.NominatedNodeName : null;
        // A nomination ended is stored even when the failure repeats, so the pod shows none after a restart either.
        var repeated = nominated is null && s.Phase == PodPhase.Unschedulable && s.Events.LastOrDefault()?.Message == message;
        state.State = s with { Phase = PodPhase.Unschedulable, NominatedNodeName = nominated is null ? s.NominatedNodeName : null };
        AddEvent("Warning", "FailedScheduling", message);
        // A repeat of the same failure only bumps a counter in memory: retries of a waiting pod write nothing (the
        // one-way report keeps the listing right if an earlier one was lost with a silo).
        if (repeated)
        {
            Report();
            return;
        }
        await PersistOrRestore(s);
        // Stored first, then the node's hold goes, as in ClearNomination: a failed write leaves the pod nominated and held.
        if (nominated is not null) await ForgetNomination(nominated, s.Spec.CreatedAt);
    }

    public async Task Retry()
    {
        if (state.State.Spec is null) return;
        if (state.State.Phase.IsWaiting())
        {
            if (!_holdAsked && state.State.NominatedNodeName is { } nominated) await HoldAgain(nominated);
            RequestScheduling();
        }
        // Bound but not started, and no start under way: the last start failed.
        else if (state.State.Phase == PodPhase.Scheduled && !_starting) StartContainerSoon();
        // Re-report: a silo that died between this pod's state write and its report left its shard's table stale.
        Report();
    }

    public async Task<bool> Evict(string node, string reason, string message, DateTimeOffset? podCreatedAt = null)
    {
        var s = state.State;
        if (s.Spec is null || !s.Phase.HoldsNode() || s.NodeName != node || !PodSpec.SameIncarnation(s.Spec.CreatedAt, podCreatedAt)) return false;
        await Finish(PodPhase.Failed, reason, message);
        return true;
    }

    public Task<ContainerView?> GetContainer() => Task.FromResult(state.State.Spec is null ? null : Container.Get());

    private async Task ContainerChanged(ContainerView container)
    {
        var s = state.State;
        if (s.Spec is null || !s.Phase.HoldsNode()) return;
        switch (container.Phase)
        {
            case ContainerPhase.Running when s.Phase == PodPhase.Scheduled:
                state.State = s with { Phase = PodPhase.Running, Container = container };
                var pulled = container.ImageWasCached ? "already present on machine" : "pulled";
                AddEvent("Normal", "Started", container.Image is null ? "container started" : $"image {container.Image} {pulled}; container started");
                try
                {
                    await Persist();
                }
                catch
                {
                    // Only Scheduled may run ahead of storage (the node holds the reservation): step back and record
                    // the start again shortly, so a failed write (Redis down) is retried instead of forgotten.
                    state.State = s;
                    StartContainerSoon(TimeSpan.FromSeconds(1));
                    throw;
                }
                break;
            case ContainerPhase.Exited when container.ExitCode == 0:
                await Finish(PodPhase.Succeeded, "Completed", "container exited with code 0");
                break;
            case ContainerPhase.Exited:
                await Finish(PodPhase.Failed, PodReasons.Error, $"container exited with code {container.ExitCode}");
                break;
        }
    }

    /// <summary>Terminal phase first (persisted), then the node is freed: a crash in between leaves a reservation the reconciler frees.</summary>
    private async Task Finish(PodPhase phase, string reason, string message)
    {
        var s = state.State;
        state.State = s with { Phase = phase, Reason = reason };
        AddEvent(PodReasons.EventType(phase, reason), reason, message);
        try
        {
            await Persist();
        }
        catch
        {
            // A failed write (Redis down) leaves the pod as stored, holding its node: kept Failed in memory only, it
            // refused every later eviction and never freed the node. A draining or NotReady node asks again at its next
            // check; a container's exit is recorded again shortly.
            state.State = s;
            if (Container.Get() is { Phase: ContainerPhase.Exited } exited)
                this.RegisterGrainTimer(_ => ContainerChanged(exited), new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
            // A deadline passed is judged again shortly, as a planned exit is.
            else if (reason == PodReasons.DeadlineExceeded)
                this.RegisterGrainTimer(ExitContainer, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
            throw;
        }
        if (phase == PodPhase.Failed) await StopContainer();
        // A node grain whose silo stops refuses it, naming the silo: asked again once that silo announced its stop, it reaches the node's next activation.
        await SiloStopping.AskedAgainOnceAnnounced(membership, silo.SiloAddress, SchedulingSiloService.RefusalToAnnouncement, () => GrainFactory.Reference<INodeGrain>(s.NodeName!).Release(Name, s.Spec!.CreatedAt));
        if (s.Workload is { } workload) _ = GrainFactory.Reference<IWorkloadGrain>(workload).PodFinished(Name, phase, reason);
    }

    /// <summary>Starts the container off the current call so the scheduler worker is not held by image pulls.</summary>
    private void StartContainerSoon(TimeSpan delay = default)
    {
        // One start pending at most: a pod deleted, created again and placed while its last start's retry waited had two,
        // and the first kept its timer registered for good.
        CancelPendingStart();
        _starting = true;
        IGrainTimer? timer = null;
        // Assigned before it can tick: its tick is a turn of this activation, which runs only after this one.
        timer = _startTimer = this.RegisterGrainTimer(cancellation => StartContainer(timer!, cancellation), new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan));
    }

    /// <summary>The start's one-shot timer, until it fires.</summary>
    private IGrainTimer? _startTimer;

    /// <summary>Disposes the start's timer if it has not fired yet (a start under way has already taken it).</summary>
    private void CancelPendingStart()
    {
        if (_startTimer is null) return;
        _startTimer.Dispose();
        _startTimer = null;
        _starting = false;
    }

    private async Task StartContainer(IGrainTimer fired, CancellationToken cancellation)
    {
        // A tick Orleans had already queued when CancelPendingStart disposed its timer still runs (Orleans checks the
        // cancellation only after the callback): it starts nothing, and leaves _starting to the start that replaced it.
        if (cancellation.IsCancellationRequested) return;
        // Disposed once this tick ends: an Orleans timer stays registered after its one tick, and with it its callback,
        // runtime timer and cancellation source, about 350 bytes every Running pod kept (docs/benchmarks.md, session 37).
        using var disposedAtTheEnd = fired;
        if (_startTimer == fired) _startTimer = null;
        var s = state.State;
        ContainerView view;
        try
        {
            if (s.Spec is null || s.Phase != PodPhase.Scheduled || s.NodeName is null) return;
            (view, var pulled) = await Container.StartAsync(s.NodeName, s.Spec.Image, s.Spec.ExpectedDurationSeconds);
            // The deadline as the spec has it now: an update may have lowered it during the start.
            view = Container.LimitTo(state.State.Spec?.ActiveDeadlineSeconds, StartTime) ?? view;
            if (pulled) _ = GrainFactory.Reference<INodeGrain>(s.NodeName).ImagePulled(s.Spec.Image!);
        }
        finally
        {
            // Cleared before the Running write: when that write fails it schedules the start again (and sets the flag).
            _starting = false;
        }
        // Past its deadline already (an image pull that outlasted it): failed while still Pending, never Running, as the
        // kubelet fails it: its every status past the deadline is Failed whatever the containers do (generateAPIPodStatus,
        // pkg/kubelet/kubelet_pods.go, asks activeDeadlineHandler.ShouldEvict, pkg/kubelet/active_deadline.go).
        if (Container.DeadlineReached(clock.GetUtcNow()))
        {
            await Finish(PodPhase.Failed, PodReasons.DeadlineExceeded, PodReasons.DeadlineExceededMessage);
            return;
        }
        ArmExit();
        await ContainerChanged(view);
    }

    /// <summary>Orleans timers cannot be armed much beyond 49 days; a later exit re-arms on waking.</summary>
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(30);

    /// <summary>
    /// Arms the container's planned exit, if it has one, and keeps the pod active until then: a timer alone does not
    /// (an activation idle for the collection age is collected with its timers, and nothing would wake the pod to exit).
    /// </summary>
    private void ArmExit()
    {
        DisarmExit();
        if (Container.RunUntil is not { } until) return;
        var due = ExitDue(until, clock.GetUtcNow());
        DelayDeactivation(due + TimeSpan.FromMinutes(1));
        _exitTimer = this.RegisterGrainTimer(ExitContainer, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    /// <summary>When to wake for an exit planned at <paramref name="until"/>: now if past, at most <see cref="LongestTimer"/> ahead.</summary>
    public static TimeSpan ExitDue(DateTimeOffset until, DateTimeOffset now)
    {
        var due = until - now;
        return due > LongestTimer ? LongestTimer : due < TimeSpan.Zero ? TimeSpan.Zero : due;
    }

    private async Task ExitContainer(CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        if (Container.RunUntil is { } until && now < until)
        {
            ArmExit();
            return;
        }
        // Past its active deadline: failed as the kubelet fails it (its container stopped, its node room released); also a
        // pod whose Running write has not landed yet (a Redis blip), which would otherwise exit as planned, Succeeded.
        if (Container.DeadlineReached(now) && state.State.Phase.HoldsNode())
        {
            await Finish(PodPhase.Failed, PodReasons.DeadlineExceeded, PodReasons.DeadlineExceededMessage);
            return;
        }
        if (await Container.ExitAsync(cancellation) is { } exited) await ContainerChanged(exited);
    }

    /// <summary>No planned exit any more: the timer goes, and the pod is collected by the usual rules again.</summary>
    private void DisarmExit()
    {
        _exitTimer?.Dispose();
        _exitTimer = null;
        DelayDeactivation(TimeSpan.Zero);
    }

    private async Task StopContainer()
    {
        DisarmExit();
        await Container.StopAsync();
    }

    private void RequestScheduling() =>
        // One-way: the API answers 202 without waiting; the shard places pods in priority order.
        _ = Shard.Enqueue(state.State.Spec!, state.State.NominatedNodeName, state.State.NominationVersion);

    private async Task Persist()
    {
        await state.WriteStateAsync();
        Report();
    }

    /// <summary>As <see cref="Persist"/>; a failed write leaves memory as <paramref name="before"/> (as stored) and reports nothing.</summary>
    private async Task PersistOrRestore(PodState before)
    {
        await state.WriteOrRestore(before);
        Report();
    }

    /// <summary>One-way to the shard on this silo, whose pod table the listings merge.</summary>
    private void Report() => _ = Shard.PodChanged(Entry());

    private PodEntry Entry() => new(Name, state.State.Phase, state.State.NodeName, NextVersion());

    /// <summary>Reports travel one-way and may overtake each other: a version (time-based, so it keeps growing across
    /// reactivations) lets the shard keep the newest.</summary>
    private long NextVersion() => _reportVersion = Math.Max(_reportVersion + 1, clock.GetUtcNow().UtcTicks);

    private long _reportVersion;

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Pod {Pod} stopped before its placement on node {Node} was stored; its next cycle completes the node's reservation")]
    private static partial void LogPlacementNotStored(ILogger logger, Exception error, string pod, string node);

    private void AddEvent(string type, string reason, string message)
    {
        state.State = state.State with { Events = ObjectEvents.Append(state.State.Events, clock.GetUtcNow(), type, reason, message) };
        // The scope is made only when the line is written: three events a pod, at the usual Warning level none is. The
        // pod itself is among the grain's fields; its node is not.
        if (!logger.IsEnabled(LogLevel.Information)) return;
        using (state.State.NodeName is { } node ? NodeScope(logger, node) : null)
            ObjectEventLog.PodEvent(logger, Name, reason, type, message);
    }

    /// <summary>A message template, not a dictionary: the simple console formatter prints a scope by its ToString.</summary>
    private static readonly Func<ILogger, string, IDisposable?> NodeScope = LoggerMessage.DefineScope<string>("Node:{Node}");
}
