using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Grains.Workloads;

/// <summary>
/// The workload controller (seed 000's workload_controller, seed 004's perceive-decide-act loop): on every pod
/// report and every <see cref="WorkloadOptions.ResyncSeconds"/> it reads its pods, replaces finished ones
/// (container failures after an exponential backoff, evictions at once), creates missing replicas, removes extra
/// ones in kube's ReplicaSet order, and lets the autoscaler adjust the replica count. After its silo dies,
/// <see cref="WorkloadRevival"/> re-activates it once the silo is declared dead, and its reminder (<see cref="WorkloadOptions.ReminderSeconds"/>) whatever happens.
/// </summary>
[GrainType(GrainTypeName)]
public sealed class WorkloadGrain(
    [PersistentState("workload")] IPersistentState<WorkloadState> state,
    IOptions<WorkloadOptions> options,
    TimeProvider clock,
    SiloClusterView clusterView,
    PodCreator pods,
    ILogger<WorkloadGrain> logger) : Grain, IWorkloadGrain, IRemindable
{
    private const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    /// <summary>The grain type, which <see cref="WorkloadRevival"/> finds workloads by in the reminder table.</summary>
    public const string GrainTypeName = "mas-workload";
    /// <summary>Every workload has it from its creation until its deletion: the workloads are listed from it (<see cref="WorkloadReminders"/>).</summary>
    public const string ResyncReminder = "resync";
    private string Name => this.GetPrimaryKeyString();
    private IGrainTimer? _resync;
    private IGrainTimer? _backoffTimer;
    // The autoscaler's recent recommendations, for its scale-down window; in memory, as HPA's controller keeps them.
    private List<(DateTimeOffset At, int Replicas)> _recommendations = [];
    private bool _recommendationsSeeded;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Template is not null) StartLoop();
        return Task.CompletedTask;
    }

    public async Task<Outcome> Create(PodSpec template, int replicas, AutoscaleSpec? autoscale = null, IReadOnlyDictionary<string, string>? annotations = null,
        string? containerName = null, int? progressDeadlineSeconds = null, string? manifest = null, IReadOnlyDictionary<string, string>? selector = null,
        DeploymentRollout? rollout = null)
    {
        if (state.State.Template is not null) return Outcome.Conflict(state.State.DeletionRequestedAt is null ? $"workload '{Name}' already exists" : BeingDeleted());
        // The reminder first: registered after the write, a failed registration left a stored workload with no loop that a
        // retry was told already existed. A write failing after it leaves a reminder that finds no workload and goes. First
        // also means a listing, read from the reminders, finds every workload a GET does.
        await RegisterReminder();
        var before = state.State;
        var now = clock.GetUtcNow();
        state.State = new WorkloadState(template, replicas, [], Autoscale: autoscale, Annotations: annotations is { Count: > 0 } ? annotations : null, ContainerName: containerName,
            ProgressDeadlineSeconds: progressDeadlineSeconds, Progress: Started(now), CreatedAt: now, Manifest: manifest,
            Selector: selector, Rollout: rollout);
        AddEvent("Normal", "Created", $"workload created with {replicas} replica(s){(autoscale is null ? "" : $", autoscaling {autoscale.MinReplicas}..{autoscale.MaxReplicas} at {autoscale.TargetCpuUtilization}% cpu")}", now);
        await state.WriteOrRestore(before);
        StartLoop();
        await Reconcile(autoscale: false);
        return Outcome.Success;
    }

    public async Task<WorkloadView?> Get()
    {
        if (state.State.Template is not { } template) return null;
        var views = await Task.WhenAll(state.State.Pods.Select(p => GrainFactory.Reference<IPodGrain>(p).Get()));
        var pods = views.Where(v => v is not null).Select(v => new PodEntry(v!.Spec.Name, v.Phase, v.NodeName)).ToList();
        var ready = pods.Count(p => p.Phase == PodPhase.Running);
        var live = pods.Count(p => p.Phase is not (PodPhase.Succeeded or PodPhase.Failed));
        await TrackProgress(live, ready);
        return new WorkloadView(Name, state.State.Replicas, ready, template, pods,
            pods.Count(p => p.Phase == PodPhase.Unschedulable), state.State.Autoscale, state.State.Annotations, state.State.ContainerName,
            state.State.ProgressDeadlineSeconds, state.State.Progress, CreatedAt(), state.State.DeletionRequestedAt, state.State.Manifest,
            state.State.Selector, state.State.Rollout);
    }

    /// <summary>
    /// Kept with the workload: a record from before that has only its Created event, which the 32 kept events rotate out
    /// (a deployment's creationTimestamp then vanished).
    /// </summary>
    private DateTimeOffset? CreatedAt() =>
        state.State.CreatedAt ?? state.State.Events?.FirstOrDefault(e => e.Reason == "Created")?.LastSeen;

    /// <summary>
    /// Moves the Progressing condition on each look, as the deployment controller does on each sync: what a client
    /// reads is never older than its look, and a deadline passes as soon as anyone looks after it. Written only when it changed.
    /// </summary>
    private async Task TrackProgress(int live, int ready)
    {
        var now = clock.GetUtcNow();
        var progress = RolloutProgress.Next(state.State.Progress ?? Started(now), state.State.Replicas, live, ready,
            state.State.ProgressDeadlineSeconds ?? WorkloadProgress.DefaultDeadlineSeconds, now);
        if (progress == state.State.Progress) return;
        var before = state.State;
        state.State = before with { Progress = progress };
        await state.WriteOrRestore(before);
    }

    // Kubernetes begins a Deployment's rollout with the new replica set's creation (NewReplicaSetCreated); a workload
    // has one set, begun with it, so its first condition is progress with none of its replicas counted yet.
    private static WorkloadProgress Started(DateTimeOffset now) => new(WorkloadProgress.Updated, now, now, 0, 0);

    public async Task<Outcome> Update(WorkloadChange change)
    {
        var before = state.State;
        if (before.Template is null) return NotFound();
        var replicas = change.Replicas ?? before.Replicas;
        if (WorkloadView.ScaleRefusal(Name, before.DeletionRequestedAt, before.Autoscale, before.Replicas, replicas) is { } refused) return Outcome.Conflict(refused);
        if (WorkloadView.UnrunnableRefusal(before.Template, before.Replicas, replicas, change.DefaultUnrunnable) is { } unrunnable) return Outcome.Unrunnable(unrunnable);
        var scales = replicas != before.Replicas;
        if (scales) AddEvent("Normal", "Scaled", $"replicas {before.Replicas} -> {replicas} (requested)");
        state.State = state.State with
        {
            Replicas = replicas,
            Annotations = change.SetsAnnotations ? (change.Annotations is { Count: > 0 } ? change.Annotations : null) : before.Annotations,
            ProgressDeadlineSeconds = change.SetsProgressDeadline ? change.ProgressDeadlineSeconds : before.ProgressDeadlineSeconds,
            Rollout = change.SetsRollout ? change.Rollout : before.Rollout,
        };
        // One write, and all of it kept as it was if that fails (the event included): a patch is never half applied.
        await state.WriteOrRestore(before);
        // Only a new count has anything to act on at once; the loop keeps the one held.
        if (scales) await Reconcile(autoscale: false);
        return Outcome.Success;
    }

    public Task<IReadOnlyList<PodEvent>> GetEvents() => Task.FromResult(state.State.Events ?? []);

    /// <summary>A scale is an update of the replicas alone: one rule for both (refusal, event, write).</summary>
    public Task<Outcome> Scale(int replicas, string? defaultUnrunnable = null) => Update(new WorkloadChange(Replicas: replicas, DefaultUnrunnable: defaultUnrunnable));

    public async Task<Outcome> Delete()
    {
        if (state.State.Template is null) return NotFound();
        if (state.State.DeletionRequestedAt is null)
        {
            // Stored before any pod goes: a pod deletion that fails, or a crash, part way leaves a workload being deleted,
            // which a retried DELETE or its own loop (timer, reminder) finishes. It was left scaled to zero, its
            // autoscaling dropped, and lived on as a workload nobody had asked for.
            var before = state.State;
            state.State = before with { DeletionRequestedAt = clock.GetUtcNow(), Replicas = 0, Autoscale = null, NextCreateAt = null };
            await state.WriteOrRestore(before);
        }
        await FinishDeletion();
        return Outcome.Success;
    }

    /// <summary>Deletes every pod (one already gone answers NotFound), then the workload: asked again, it goes on where it stopped.</summary>
    private async Task FinishDeletion()
    {
        await Task.WhenAll(state.State.Pods.Select(p => GrainFactory.Reference<IPodGrain>(p).Delete()));
        await state.ClearStateAsync();
        state.State = new WorkloadState();
        await Unregister(ResyncReminder);
        _resync?.Dispose();
        _backoffTimer?.Dispose();
        DeactivateOnIdle();
    }

    public Task Ping() => Task.CompletedTask;

    /// <summary>
    /// A pod it no longer counts changes nothing: every deletion the workload makes itself (a scale-down, a finished pod
    /// replaced, its own deletion) forgets the pod before this arrives (a non-reentrant grain), and each ran a whole pass
    /// of Gets on every pod (a scale-down of 500 ran 500 of them). Pods deleted by others at once are all seen by the first
    /// pass, which forgets them, so the rest of their notices are dropped here too.
    /// </summary>
    public Task PodFinished(string pod, PodPhase phase, string? reason)
    {
        if (state.State.Template is null || !state.State.Pods.Contains(pod)) return Task.CompletedTask;
        return Reconcile(autoscale: false);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.Template is not null)
        {
            await KeepReminderPeriod(status);
            await Reconcile(autoscale: false);
            return;
        }
        // Memory may be behind storage: a create whose write failed as seen here (a timeout) though Redis applied it put
        // memory back to no workload. Unregistered on memory's word, the stored workload was unlisted and never revived.
        await state.ReadStateAsync();
        if (state.State.Template is not null)
        {
            StartLoop();
            await KeepReminderPeriod(status);
            await Reconcile(autoscale: false);
            return;
        }
        // Registered by a creation whose write then failed: there is no workload to restart.
        await Unregister(reminderName);
        DeactivateOnIdle();
    }

    private TimeSpan ReminderPeriod => TimeSpan.FromSeconds(options.Value.ReminderSeconds);

    private Task RegisterReminder() => this.RegisterOrUpdateReminder(ResyncReminder, ReminderPeriod, ReminderPeriod);

    /// <summary>
    /// A workload registered its reminder at creation: one created under another Workloads__ReminderSeconds takes the
    /// setting at its next tick (one write, then its ticks have the period).
    /// </summary>
    private async Task KeepReminderPeriod(TickStatus status)
    {
        if (status.Period != ReminderPeriod) await RegisterReminder();
    }

    private async Task Unregister(string reminderName)
    {
        if (await this.GetReminder(reminderName) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private void StartLoop()
    {
        if (_resync is not null) return;
        var period = TimeSpan.FromSeconds(options.Value.ResyncSeconds);
        _resync = this.RegisterGrainTimer(_ => Reconcile(autoscale: true), new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    /// <summary>One level-triggered pass: perceive the pods, decide, act; everything is persisted as it happens.</summary>
    private async Task Reconcile(bool autoscale)
    {
        if (state.State.Template is not { } template) return;
        if (state.State.DeletionRequestedAt is not null)
        {
            await FinishDeletion();
            return;
        }
        var now = clock.GetUtcNow();
        var views = await Task.WhenAll(state.State.Pods.Select(async p => (Name: p, View: await GrainFactory.Reference<IPodGrain>(p).Get())));
        var changed = await RemoveFinished(views, now);
        var live = views.Where(v => v.View is { Phase: not (PodPhase.Failed or PodPhase.Succeeded) }).Select(v => v.View!).ToList();
        changed |= TrackHealth(live, now);
        if (autoscale && state.State.Autoscale is { } spec) changed |= await Autoscale(spec, live);
        if (changed) await state.WriteStateAsync();
        await CreateMissing(template, now);
        await RemoveExtra(live);
    }

    private async Task<bool> RemoveFinished((string Name, PodView? View)[] views, DateTimeOffset now)
    {
        var changed = false;
        foreach (var (pod, view) in views)
        {
            if (view is { Phase: not (PodPhase.Failed or PodPhase.Succeeded) }) continue;
            if (view is null) AddEvent("Warning", "PodMissing", $"pod {pod} no longer exists; replacing it");
            else if (view.Phase == PodPhase.Succeeded) AddEvent("Normal", "PodCompleted", $"pod {pod} completed; replacing it");
            else if (PodReasons.IsEviction(view.Reason)) AddEvent("Normal", "PodEvicted", $"pod {pod} was evicted ({view.Reason}) from {view.NodeName}; replacing it now");
            else
            {
                // The pod itself failed: back off exponentially before the next one, as kubelet's CrashLoopBackOff.
                var failures = state.State.ConsecutiveFailures + 1;
                var delay = Math.Min(options.Value.FailureBackoffSeconds * Math.Pow(2, failures - 1), options.Value.MaxFailureBackoffSeconds);
                state.State = state.State with { ConsecutiveFailures = failures, NextCreateAt = now.AddSeconds(delay) };
                AddEvent("Warning", "BackOff", $"pod {pod} failed ({view.Reason}: {view.Events.LastOrDefault()?.Message}); failure {failures} in a row, replacing it in {delay:0.#} s");
            }
            if (view is not null) await GrainFactory.Reference<IPodGrain>(pod).Delete();
            state.State = state.State with { Pods = state.State.Pods.Where(p => p != pod).ToList() };
            changed = true;
        }
        return changed;
    }

    /// <summary>
    /// Forgets past failures only after every replica has run for <see cref="WorkloadOptions.BackoffResetSeconds"/>
    /// (kubelet resets its crash-loop backoff after 10 minutes of running), so a pod that starts and then dies does
    /// not reset the backoff each time.
    /// </summary>
    private bool TrackHealth(List<PodView> live, DateTimeOffset now)
    {
        var healthy = live.Count > 0 && live.Count == state.State.Replicas && live.All(v => v.Phase == PodPhase.Running);
        if (!healthy) return SetHealthySince(null);
        if (state.State.HealthySince is not { } since) return SetHealthySince(now);
        if (state.State.ConsecutiveFailures == 0 || now - since < TimeSpan.FromSeconds(options.Value.BackoffResetSeconds)) return false;
        state.State = state.State with { ConsecutiveFailures = 0 };
        return true;
    }

    private bool SetHealthySince(DateTimeOffset? since)
    {
        if (state.State.HealthySince == since) return false;
        state.State = state.State with { HealthySince = since };
        return true;
    }

    /// <summary>Perceive (utilization of the nodes its running pods use, as their telemetry reports it), decide (seed 001), act.</summary>
    private async Task<bool> Autoscale(AutoscaleSpec spec, List<PodView> live)
    {
        var nodes = live.Where(v => v.Phase == PodPhase.Running && v.NodeName is not null).Select(v => v.NodeName!).ToHashSet(StringComparer.Ordinal);
        if (nodes.Count == 0) return false;
        // Utilization as this silo's view knows it: every silo's view holds every node, without copying their pods.
        await clusterView.WhenReady();
        var readings = clusterView.Usage().Where(u => nodes.Contains(u.Name) && u.Info.LastTelemetry is not null && u.Info.Utilization.ContainsKey("cpu"))
            .Select(u => u.Info.Utilization["cpu"]).ToList();
        if (readings.Count == 0) return false;
        var utilization = readings.Average() * 100;
        // Decided and recorded at one instant, so event times show exactly the cooldowns that were applied.
        var decidedAt = clock.GetUtcNow();
        // Begun with the current count, as HPA begins each autoscaler's (horizontal.go recordInitialRecommendation):
        // an activation's first low reading does not scale down at once.
        if (!_recommendationsSeeded) (_recommendationsSeeded, _recommendations) = (true, [(decidedAt, state.State.Replicas)]);
        var window = decidedAt.AddSeconds(-spec.ScaleDownCooldownSeconds);
        _recommendations.RemoveAll(r => r.At <= window);
        // Replicas not Running (or not created yet) count as using nothing on a scale-up, as HPA counts Pending pods.
        var notRunning = Math.Max(0, state.State.Replicas - live.Count(v => v.Phase == PodPhase.Running));
        var decision = Autoscaler.Decide(spec, state.State.Replicas, utilization, decidedAt, state.State.LastScaleAt, _recommendations.ConvertAll(r => r.Replicas), notRunning);
        _recommendations.Add((decidedAt, Autoscaler.DesiredReplicas(spec, state.State.Replicas, utilization, state.State.Replicas - notRunning, notRunning)));
        if (decision.Reason == "ScaleUnchanged") return false;
        AddEvent("Normal", decision.Reason, decision.Message, decidedAt);
        if (decision.Changes(state.State.Replicas))
            state.State = state.State with { Replicas = decision.Desired, LastScaleAt = decidedAt };
        return true;
    }

    private async Task CreateMissing(PodSpec template, DateTimeOffset now)
    {
        if (state.State.Pods.Count >= state.State.Replicas) return;
        if (state.State.NextCreateAt is { } next && next > now)
        {
            ArmBackoff(next - now);
            return;
        }
        var created = new List<string>();
        while (state.State.Pods.Count < state.State.Replicas)
        {
            var name = $"{Name}-{Suffix()}";
            // Recorded before it exists: a crash or failed write after the creation would otherwise leave a pod this
            // workload owns but does not know, and a restarted workload would create another beside it. A name recorded
            // whose pod never came is found missing on the next pass and replaced.
            state.State = state.State with { Pods = [.. state.State.Pods, name] };
            await state.WriteStateAsync();
            // The workload owns its pods like a ReplicaSet, selecting them by its deployment's selector (a ReplicaSet's is
            // that plus pod-template-hash), else by the template's labels (kube spreads them by default).
            var owner = new PodOwner(PodOwner.ReplicaSet, Name, new LabelSelector(state.State.Selector ?? template.Labels));
            var creation = await pods.Create(template with { Name = name, Owner = owner }, Name, containerName: state.State.ContainerName, manifest: state.State.Manifest);
            if (!creation.Outcome.IsOk)
            {
                // Name taken by another pod: not ours, so forget it and draw another suffix.
                state.State = state.State with { Pods = state.State.Pods.Where(p => p != name).ToList() };
                await state.WriteStateAsync();
                continue;
            }
            created.Add(name);
        }
        AddEvent("Normal", "SuccessfulCreate", $"created {created.Count} pod(s): {string.Join(", ", created.Take(10))}{(created.Count > 10 ? ", ..." : "")}");
        await state.WriteStateAsync();
    }

    /// <summary>Removes replicas beyond the desired count in kube's ReplicaSet order (<see cref="ReplicaDeletionOrder"/>).</summary>
    private async Task RemoveExtra(List<PodView> live)
    {
        var extra = state.State.Pods.Count - state.State.Replicas;
        if (extra <= 0) return;
        var known = live.ToDictionary(v => v.Spec.Name, StringComparer.Ordinal);
        // A pod this pass has no view of is treated as unassigned and Pending: the first to go, as it serves nothing.
        var replicas = state.State.Pods.Select(p => known.TryGetValue(p, out var v) ? new PodEntry(p, v.Phase, v.NodeName) : new PodEntry(p, PodPhase.Pending, null)).ToList();
        var removed = new List<string>();
        foreach (var victim in ReplicaDeletionOrder.PodsToDelete(replicas, extra))
        {
            await GrainFactory.Reference<IPodGrain>(victim).Delete();
            state.State = state.State with { Pods = state.State.Pods.Where(p => p != victim).ToList() };
            await state.WriteStateAsync();
            removed.Add(victim);
        }
        AddEvent("Normal", "SuccessfulDelete", $"deleted {removed.Count} pod(s): {string.Join(", ", removed.Take(10))}");
        await state.WriteStateAsync();
    }

    private void ArmBackoff(TimeSpan due)
    {
        _backoffTimer?.Dispose();
        _backoffTimer = this.RegisterGrainTimer(_ => Reconcile(autoscale: false), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private void AddEvent(string type, string reason, string message, DateTimeOffset? at = null)
    {
        // Correlated as kube's controllers' recorder does: the autoscaler repeats a cooldown each resync with a new message,
        // and those once filled the 32 kept events, pushing out the scaling that started the cooldown.
        state.State = state.State with { Events = ObjectEvents.Correlate(state.State.Events ?? [], at ?? clock.GetUtcNow(), type, reason, message) };
        ObjectEventLog.WorkloadEvent(logger, Name, reason, type, message);
    }

    private static string Suffix() => string.Create(5, 0, (span, _) =>
    {
        for (var i = 0; i < span.Length; i++) span[i] = SuffixAlphabet[Random.Shared.Next(SuffixAlphabet.Length)];
    });

    private Outcome NotFound() => Outcome.NotFound($"workload '{Name}' not found");

    private string BeingDeleted() => WorkloadView.BeingDeleted(Name);
}
