using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Kube;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Nodes;

/// <summary>The node's health: telemetry, the heartbeat that declares it NotReady, and the evictions NoExecute taints make.</summary>
public sealed partial class NodeGrain
{
    private static readonly TimeSpan TimedEvictionCheck = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Pods a NoExecute taint evicts once their tolerationSeconds run out, with that time; and pods whose eviction was
    /// sent, due again a <see cref="TimedEvictionCheck"/> later until they leave: the eviction is one-way, and one whose
    /// write failed (Redis gone for a moment) would otherwise leave the pod on a node it does not tolerate.
    /// </summary>
    private readonly Dictionary<string, DateTimeOffset> _timedEvictions = new(StringComparer.Ordinal);
    private IGrainTimer? _timedEviction;

    /// <summary>
    /// The newest reading wins, by the time the receiving silo stamped on it, not the last delivered: two reports raced
    /// through two silos (or a client's retry beside its original) reach the node in either order, and an older one
    /// arriving later is dropped, neither its utilization nor a heartbeat, since it tells nothing newer. A stamp beyond this
    /// grain's clock (a silo's clock ahead) counts as now, so it cannot hold back the readings after it.
    /// </summary>
    public async Task<bool> ReportTelemetry(TelemetryReading reading)
    {
        if (state.State.Spec is null) return false;
        var now = clock.GetUtcNow();
        var at = reading.At < now ? reading.At : now;
        if (at < _lastTelemetry)
        {
            LogOlderReadingDropped(logger, Name, reading.At, _lastTelemetry.Value);
            return true;
        }
        _utilization = new Dictionary<string, double>(reading.Utilization);
        _lastTelemetry = at;
        _heartbeatClock = now;
        if (!state.State.HasReported)
        {
            // Left to the node's next activation once this silo stops: the node's next reading reaches it there.
            using var write = TryBeginWrite();
            if (!write.Counted) return true;
            state.State = state.State with { HasReported = true };
            await WriteRecord();
        }
        else if (at != state.State.LastTelemetryAt) unstoredReadings.Add(Name);
        if (_heartbeat is null) StartHeartbeat();
        await SetReady(true);
        return true;
    }

    public async Task StoreLastTelemetry()
    {
        if (state.State.Spec is null) return;
        using var write = TryBeginWrite();
        if (write.Counted) await WriteRecord();
    }

    private void StartHeartbeat()
    {
        _heartbeatClock = clock.GetUtcNow();
        var period = TimeSpan.FromMilliseconds(Math.Max(50, Grace.TotalMilliseconds / 5));
        _heartbeat = this.RegisterGrainTimer(CheckHeartbeat, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    private Task CheckHeartbeat(CancellationToken cancellation) =>
        clock.GetUtcNow() - _heartbeatClock > Grace ? SetReady(false) : Task.CompletedTask;

    private async Task SetReady(bool ready)
    {
        var changed = ready != _ready;
        // Not judged by a node grain whose silo stops: its next activation, on another silo, starts the silence clock afresh.
        using var write = changed ? TryBeginWrite() : default;
        if (changed && !write.Counted) return;
        _ready = ready;
        if (changed)
        {
            _local.SetReady(0, ready);
            // Its pods cannot be trusted to run any more: the unreachable taint Kubernetes puts on such a node evicts them
            // (their workloads recreate them elsewhere), except those that tolerate it.
            var plan = NoExecutePlan();
            CancelTimedEvictionsOutside(plan);
            if (ready) plan = []; // its own NoExecute taints evicted their pods when they were put on
            var later = plan.Count(p => p.Eviction.After > TimeSpan.Zero);
            // Its last reading is not its load now: served as current, it kept the dashboards' utilization and the
            // autoscaler's mean where they were when the node went silent. As metrics-server has no metrics for a
            // node it cannot reach, it has none until it reports again; lastTelemetry still says when that was.
            if (!ready) _utilization = [];
            state.State = state.State with { ReadyChangedAt = clock.GetUtcNow(), Ready = ready };
            if (ready) AddEvent("Normal", "NodeReady", "telemetry resumed; node is Ready");
            else AddEvent("Warning", "NodeNotReady", $"no telemetry for {Grace.TotalSeconds:0.#} s; node is NotReady, evicting "
                + $"{plan.Count - later} pod(s) that do not tolerate {Describe(NodeTaints.Unreachable)}"
                + (later > 0 ? $", {later} more when their tolerationSeconds run out" : ""));
            await WriteRecord();
            Carry(plan);
        }
        // Level-triggered, as kube's taint eviction controller retries a pod it could not delete: every heartbeat check
        // of a NotReady node evicts again the pods its taints still evict (one that left answers false). Evictions the
        // write above kept from being sent (Redis down) left those pods Running on a lost node for good.
        else if (!ready) Carry(NoExecutePlan());
        // Telemetry-aware policies read utilization too, so every reading reaches the silos' views.
        PublishInfo();
    }

    /// <summary>The NoExecute taints the node has now: its own, and the unreachable one while it is NotReady.</summary>
    private IReadOnlyList<Taint> NoExecuteTaints()
    {
        // Read on every bind: a Ready node without a NoExecute taint (nearly every node) answers without allocating.
        var own = state.State.Spec?.Taints;
        var any = !_ready;
        for (var i = 0; !any && own is not null && i < own.Count; i++) any = own[i].Effect == TaintEffects.NoExecute;
        if (!any) return [];
        return [.. own?.Where(t => t.Effect == TaintEffects.NoExecute) ?? [], .. _ready ? Array.Empty<Taint>() : [NodeTaints.Unreachable]];
    }

    /// <summary>Each pod here that the node's NoExecute taints evict, now or later, as the core's rule says.</summary>
    private List<(BoundPod Bound, NoExecuteEviction Eviction)> NoExecutePlan()
    {
        var taints = NoExecuteTaints();
        var plan = new List<(BoundPod, NoExecuteEviction)>();
        if (taints.Count == 0) return plan;
        foreach (var bound in BoundPods)
            if (Taints.NoExecuteEviction(bound.Pod.Tolerations, taints) is { } eviction) plan.Add((bound, eviction));
        return plan;
    }

    /// <summary>
    /// A pod whose eviction is timed but that the node's NoExecute taints no longer evict (the taint went, the node is
    /// Ready again) keeps running, and a taint put back later counts its tolerationSeconds afresh, as kube's taint
    /// eviction controller cancels such work (processPodOnNode, cancelWorkWithEvent).
    /// </summary>
    /// <param name="plan">Every pod the taints evict now, as <see cref="NoExecutePlan"/> has it.</param>
    private void CancelTimedEvictionsOutside(List<(BoundPod Bound, NoExecuteEviction Eviction)> plan)
    {
        if (_timedEvictions.Count == 0) return;
        var stillEvicted = plan.Select(p => p.Bound.Pod.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var pod in _timedEvictions.Keys.Where(p => !stillEvicted.Contains(p)).ToList()) _timedEvictions.Remove(pod);
    }

    /// <summary>
    /// Evicts now the pods due now, and arms the check for the rest (an earlier due time stands, as in kube's queue).
    /// Every eviction sent is asked again at the next check until its pod leaves (see <see cref="_timedEvictions"/>).
    /// Timed evictions live in memory, like the heartbeat clock: a node grain's activation plans them afresh from its start.
    /// </summary>
    private void Carry(List<(BoundPod Bound, NoExecuteEviction Eviction)> plan)
    {
        var now = clock.GetUtcNow();
        foreach (var (bound, eviction) in plan)
        {
            if (eviction.After == TimeSpan.Zero)
            {
                Evict(bound.Pod, eviction);
                _timedEvictions[bound.Pod.Name] = now + TimedEvictionCheck;
            }
            else if (!_timedEvictions.TryGetValue(bound.Pod.Name, out var due) || now + eviction.After < due)
                _timedEvictions[bound.Pod.Name] = now + eviction.After;
        }
        if (_timedEvictions.Count > 0)
            _timedEviction ??= this.RegisterGrainTimer(EvictDue, new GrainTimerCreationOptions(TimedEvictionCheck, TimedEvictionCheck) { KeepAlive = true });
    }

    /// <summary>
    /// The due pods that a NoExecute taint still evicts (it may be gone, or the node Ready again) are evicted, and asked
    /// again at the next check until they leave (<see cref="Release"/> forgets them): kube's taint manager retries a
    /// deletion that failed at once rather than after the pod's tolerationSeconds again (deletePodHandler's retries,
    /// pkg/controller/tainteviction/taint_eviction.go).
    /// </summary>
    private Task EvictDue(CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var taints = NoExecuteTaints();
        foreach (var (pod, due) in _timedEvictions.Where(e => e.Value <= now).ToList())
        {
            _timedEvictions.Remove(pod);
            if (taints.Count > 0 && BoundPods.FirstOrDefault(b => b.Pod.Name == pod) is { } bound
                && Taints.NoExecuteEviction(bound.Pod.Tolerations, taints) is { } eviction)
            {
                Evict(bound.Pod, eviction);
                _timedEvictions[pod] = now + TimedEvictionCheck;
            }
        }
        if (_timedEvictions.Count == 0)
        {
            _timedEviction?.Dispose();
            _timedEviction = null;
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// One-way: the pod fails itself, then calls Release here, so no call waits in a cycle. A pod whose tolerationSeconds
    /// ran out is told so: it did tolerate the taint, for that long. The eviction names the pod's creation time: a pod
    /// deleted and created again under its name before it lands refuses it, being judged by its own tolerations.
    /// </summary>
    private void Evict(PodSpec pod, NoExecuteEviction eviction)
    {
        var taint = eviction.Taint;
        var why = eviction.After > TimeSpan.Zero
            ? $"was tolerated for {eviction.After.TotalSeconds:0.#} s (tolerationSeconds), which ran out"
            : "is not tolerated";
        var (reason, message) = taint == NodeTaints.Unreachable
            ? (PodReasons.NodeLost, $"node {Name} stopped reporting telemetry" + (eviction.After > TimeSpan.Zero ? $"; its taint {Describe(taint)} {why}" : ""))
            : (PodReasons.TaintEviction, $"taint {Describe(taint)} on node {Name} {why}");
        _ = GrainFactory.Reference<IPodGrain>(pod.Name).Evict(Name, reason, message, pod.CreatedAt);
    }

    [LoggerMessage(EventId = 1403, Level = LogLevel.Debug, Message = "Node {Node} dropped a telemetry reading stamped {At}, older than the one it holds ({Held})")]
    private static partial void LogOlderReadingDropped(ILogger logger, string node, DateTimeOffset at, DateTimeOffset held);

    private static string Describe(Taint taint) => $"{taint.Key}{(string.IsNullOrEmpty(taint.Value) ? "" : "=" + taint.Value)}:{taint.Effect}";
}
