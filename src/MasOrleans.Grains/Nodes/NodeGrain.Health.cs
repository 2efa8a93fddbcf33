using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Grains.Nodes;

/// <summary>The node's health: telemetry, the heartbeat that declares it NotReady, and the evictions NoExecute taints make.</summary>
public sealed partial class NodeGrain
{
    private async Task OnTelemetry(TelemetryReading reading)
    {
        if (state.State.Spec is null) return;
        _utilization = new Dictionary<string, double>(reading.Utilization);
        _lastTelemetry = reading.At;
        _heartbeatClock = clock.GetUtcNow();
        if (!state.State.HasReported)
        {
            state.State = state.State with { HasReported = true };
            await state.WriteStateAsync();
        }
        if (_heartbeat is null) StartHeartbeat();
        await SetReady(true);
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
        _ready = ready;
        if (changed)
        {
            _local.SetReady(0, ready);
            var name = this.GetPrimaryKeyString();
            if (ready) AddEvent("Normal", "NodeReady", "telemetry resumed; node is Ready");
            else AddEvent("Warning", "NodeNotReady", $"no telemetry for {Grace.TotalSeconds:0.#} s; node is NotReady, evicting {BoundPods.Count} pod(s)");
            await state.WriteStateAsync();
            // Its pods cannot be trusted to run any more: fail them so their workloads recreate them elsewhere.
            if (!ready) EvictAll(PodReasons.NodeLost, $"node {name} stopped reporting telemetry");
        }
        // Telemetry-aware policies read utilization too, so every reading reaches the silos' views.
        await PublishInfo();
    }

    /// <summary>One-way evictions: each pod fails itself, then calls Release here, so no call waits in a cycle.</summary>
    private void EvictAll(string reason, string message)
    {
        foreach (var bound in BoundPods.ToList())
            _ = GrainFactory.Reference<IPodGrain>(bound.Pod.Name).Evict(Name, reason, message);
    }

    /// <summary>The pods here that one of <paramref name="taints"/> (its NoExecute ones) would evict, with the taint.</summary>
    private List<(BoundPod Bound, Taint Taint)> Untolerating(IReadOnlyList<Taint> taints)
    {
        var found = new List<(BoundPod, Taint)>();
        foreach (var bound in BoundPods)
            if (Taints.FirstUntoleratedNoExecute(bound.Pod.Tolerations, taints) is { } taint) found.Add((bound, taint));
        return found;
    }

    /// <summary>
    /// Evicts the pods a NoExecute taint does not let stay, as kube's taint eviction controller does; a pod tolerating
    /// every such taint stays (tolerations here last forever: there is no tolerationSeconds). One-way evictions: each pod
    /// fails itself, then calls Release here, so no call waits in a cycle.
    /// </summary>
    private void EvictUntolerating(IReadOnlyList<Taint> taints, string reason, Func<Taint, string> message)
    {
        foreach (var (bound, taint) in Untolerating(taints))
            _ = GrainFactory.Reference<IPodGrain>(bound.Pod.Name).Evict(Name, reason, message(taint));
    }

    private static string Describe(Taint taint) => $"{taint.Key}{(string.IsNullOrEmpty(taint.Value) ? "" : "=" + taint.Value)}:{taint.Effect}";
}
