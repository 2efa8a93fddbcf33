using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// The resource agent. Keeps a one-node ClusterState so fit checks and per-device GPU accounting are the
/// scheduling core's own; every change is persisted before it is reported to the index.
/// </summary>
[GrainType("mas-node")]
[ImplicitStreamSubscription(TelemetryStreams.Namespace)]
public sealed class NodeGrain(
    [PersistentState("node")] IPersistentState<NodeState> state,
    IOptions<TelemetryOptions> telemetryOptions,
    TimeProvider clock) : Grain, INodeGrain
{
    private ClusterState _local = new();
    private bool _ready = true;
    private Dictionary<string, double> _utilization = [];
    private DateTimeOffset? _lastTelemetry;
    private DateTimeOffset _heartbeatClock;
    private IGrainTimer? _heartbeat;

    private IClusterIndexGrain Index => GrainFactory.GetGrain<IClusterIndexGrain>(ClusterIndex.Key);
    private TimeSpan Grace => TimeSpan.FromSeconds(telemetryOptions.Value.HeartbeatGraceSeconds);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RebuildLocal();
        // A restart starts every reporting node's silence clock afresh instead of expiring it.
        if (state.State.HasReported) StartHeartbeat();
        var stream = this.GetStreamProvider(TelemetryStreams.Provider)
            .GetStream<TelemetryReading>(StreamId.Create(TelemetryStreams.Namespace, this.GetPrimaryKeyString()));
        await stream.SubscribeAsync((reading, _) => OnTelemetry(reading));
    }

    public async Task<Outcome> Register(NodeSpec spec)
    {
        if (state.State.Spec is not null) return Outcome.Conflict($"node '{spec.Name}' already exists");
        state.State = new NodeState(spec, [], false);
        await state.WriteStateAsync();
        RebuildLocal();
        await Index.NodeChanged(View());
        return Outcome.Success;
    }

    public Task<NodeView?> GetView() => Task.FromResult(state.State.Spec is null ? null : View());

    public async Task<Outcome> Patch(NodePatch patch)
    {
        if (state.State.Spec is not { } spec) return NotFound();
        var updated = spec with
        {
            Labels = patch.Labels ?? spec.Labels,
            Taints = patch.Taints ?? spec.Taints,
            Unschedulable = patch.Unschedulable ?? spec.Unschedulable,
        };
        state.State = state.State with { Spec = updated };
        await state.WriteStateAsync();
        _local.UpdateNode(updated);
        await Index.NodeChanged(View());
        return Outcome.Success;
    }

    public async Task<Outcome> Delete()
    {
        if (state.State.Spec is null) return NotFound();
        if (state.State.Pods.Count > 0)
            return Outcome.Conflict($"node '{this.GetPrimaryKeyString()}' still holds {state.State.Pods.Count} pod(s); delete them first (cordon the node to stop new ones)");
        await state.ClearStateAsync();
        state.State = new NodeState();
        _heartbeat?.Dispose();
        _heartbeat = null;
        RebuildLocal();
        await Index.NodeRemoved(this.GetPrimaryKeyString());
        DeactivateOnIdle();
        return Outcome.Success;
    }

    public async Task<Reservation> Reserve(PodSpec pod, GpuAllocation gpus)
    {
        if (state.State.Spec is null) return new Reservation(false, GpuAllocation.None, "node no longer exists");
        // Idempotent: a scheduler retrying after a crash gets the placement it already holds.
        if (_local.TryGetPodLocation(pod.Name, out _, out var held)) return new Reservation(true, held, null);
        if (!_ready) return new Reservation(false, GpuAllocation.None, "node is not ready");
        if (!_local.TryBind(0, pod, gpus)) return new Reservation(false, GpuAllocation.None, "resources or devices no longer free");
        state.State = state.State with { Pods = [.. state.State.Pods, new BoundPod(pod, gpus)] };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Keep memory and storage in step: a failed write must not leave a phantom reservation.
            _local.Unbind(pod.Name);
            state.State = state.State with { Pods = state.State.Pods.Where(p => p.Pod.Name != pod.Name).ToList() };
            throw;
        }
        await Index.NodeChanged(View());
        return new Reservation(true, gpus, null);
    }

    public async Task<bool> Release(string podName)
    {
        if (!_local.Unbind(podName)) return false;
        state.State = state.State with { Pods = state.State.Pods.Where(p => p.Pod.Name != podName).ToList() };
        await state.WriteStateAsync();
        await Index.NodeChanged(View());
        return true;
    }

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
        if (changed) _local.SetReady(0, ready);
        // Telemetry-aware policies read utilization too, so every reading refreshes the index's view.
        await Index.NodeChanged(View());
    }

    private void RebuildLocal()
    {
        _local = new ClusterState();
        if (state.State.Spec is not { } spec) return;
        _local.AddNode(spec, _ready);
        foreach (var bound in state.State.Pods)
        {
            if (!_local.TryBind(0, bound.Pod, bound.Gpus))
                throw new InvalidOperationException($"stored pod '{bound.Pod.Name}' does not fit node '{spec.Name}'");
        }
    }

    private NodeView View() => new(state.State.Spec!, _ready, state.State.Pods, _utilization, _lastTelemetry);

    private Outcome NotFound() => Outcome.NotFound($"node '{this.GetPrimaryKeyString()}' not found");
}
