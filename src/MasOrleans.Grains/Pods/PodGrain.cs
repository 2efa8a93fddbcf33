using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Orleans.Runtime;

namespace MasOrleans.Grains.Pods;

/// <summary>A task agent: owns one pod's lifecycle; placement comes from a scheduler worker, resources from a node grain.</summary>
[GrainType("mas-pod")]
public sealed class PodGrain([PersistentState("pod")] IPersistentState<PodState> state, TimeProvider clock) : Grain, IPodGrain
{
    /// <summary>Events beyond this are dropped oldest first; repeats are folded, so this is rarely reached.</summary>
    private const int MaxEvents = 32;

    public const string MainContainer = "main";

    private string Name => this.GetPrimaryKeyString();
    private IClusterIndexGrain Index => GrainFactory.GetGrain<IClusterIndexGrain>(ClusterIndex.Key);
    private IContainerGrain Container => GrainFactory.GetGrain<IContainerGrain>($"{Name}/{MainContainer}");

    public async Task<Outcome> Create(PodSpec spec, string? workload)
    {
        if (state.State.Spec is not null) return Outcome.Conflict($"pod '{spec.Name}' already exists");
        var now = clock.GetUtcNow();
        state.State = new PodState() with { Spec = spec, Workload = workload, CreatedAt = now };
        AddEvent("Normal", "Created", $"pod accepted; waiting for policy '{spec.Policy ?? "(cluster default)"}'");
        await Persist();
        RequestScheduling();
        return Outcome.Success;
    }

    public Task<PodView?> Get()
    {
        var s = state.State;
        return Task.FromResult(s.Spec is null ? null
            : new PodView(s.Spec, s.Phase, s.NodeName, s.Gpus, s.Events, s.Scores, s.ScheduledBy, s.Workload, s.CreatedAt));
    }

    public async Task<Outcome> Delete()
    {
        var s = state.State;
        if (s.Spec is null) return Outcome.NotFound($"pod '{Name}' not found");
        // Clear first: a scheduler that placed the pod meanwhile sees MarkScheduled refused and releases the node.
        await state.ClearStateAsync();
        state.State = new PodState();
        if (s.NodeName is { } node)
        {
            await Container.Stop();
            await GrainFactory.GetGrain<INodeGrain>(node).Release(Name);
        }
        await Index.PodRemoved(Name);
        DeactivateOnIdle();
        return Outcome.Success;
    }

    public async Task<bool> MarkScheduled(string nodeName, GpuAllocation gpus, IReadOnlyDictionary<string, long> scores, string policy)
    {
        var s = state.State;
        if (s.Spec is null || !s.Phase.IsWaiting()) return s.NodeName == nodeName && s.Phase.HoldsNode();
        state.State = s with { Phase = PodPhase.Scheduled, NodeName = nodeName, Gpus = gpus, Scores = scores, ScheduledBy = policy };
        var devices = gpus.IsNone ? "" : $" (GPU devices {string.Join(",", gpus.Devices)} x {gpus.MilliPerDevice}m)";
        AddEvent("Normal", "Scheduled", $"Successfully assigned {Name} to {nodeName}{devices} by policy '{policy}'");
        await Persist();
        // Start the container off this call so the scheduler worker is not held by image pulls.
        this.RegisterGrainTimer(StartContainer, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        return true;
    }

    public async Task MarkUnschedulable(string message)
    {
        if (state.State.Spec is null || !state.State.Phase.IsWaiting()) return;
        var repeated = state.State.Phase == PodPhase.Unschedulable && state.State.Events.LastOrDefault()?.Message == message;
        state.State = state.State with { Phase = PodPhase.Unschedulable };
        AddEvent("Warning", "FailedScheduling", message);
        // A repeat of the same failure only bumps a counter; it need not reach the index again.
        if (repeated) await state.WriteStateAsync();
        else await Persist();
    }

    public Task Retry()
    {
        if (state.State.Spec is not null && state.State.Phase.IsWaiting()) RequestScheduling();
        return Task.CompletedTask;
    }

    public async Task ContainerChanged(ContainerView container)
    {
        var s = state.State;
        if (s.Spec is null || !s.Phase.HoldsNode()) return;
        switch (container.Phase)
        {
            case ContainerPhase.Running when s.Phase == PodPhase.Scheduled:
                state.State = s with { Phase = PodPhase.Running };
                var pulled = container.ImageWasCached ? "already present on machine" : "pulled";
                AddEvent("Normal", "Started", container.Image is null ? "container started" : $"image {container.Image} {pulled}; container started");
                await Persist();
                break;
            case ContainerPhase.Exited:
                var ok = container.ExitCode == 0;
                state.State = s with { Phase = ok ? PodPhase.Succeeded : PodPhase.Failed };
                AddEvent(ok ? "Normal" : "Warning", ok ? "Completed" : "Failed", $"container exited with code {container.ExitCode}");
                await Persist();
                await GrainFactory.GetGrain<INodeGrain>(s.NodeName!).Release(Name);
                break;
        }
    }

    private async Task StartContainer(CancellationToken cancellation)
    {
        var s = state.State;
        if (s.Spec is null || s.Phase != PodPhase.Scheduled || s.NodeName is null) return;
        var view = await Container.Start(s.NodeName, s.Spec.Image, s.Spec.ExpectedDurationSeconds);
        await ContainerChanged(view);
    }

    private void RequestScheduling() =>
        // One-way: the API answers 202 without waiting; the worker reports back through MarkScheduled/MarkUnschedulable.
        _ = GrainFactory.GetGrain<ISchedulerGrain>(0).Schedule(state.State.Spec!);

    private async Task Persist()
    {
        await state.WriteStateAsync();
        await Index.PodChanged(new PodEntry(Name, state.State.Phase, state.State.NodeName));
    }

    private void AddEvent(string type, string reason, string message)
    {
        var now = clock.GetUtcNow();
        var events = state.State.Events.ToList();
        if (events.Count > 0 && events[^1].Reason == reason && events[^1].Message == message)
            events[^1] = events[^1] with { LastSeen = now, Count = events[^1].Count + 1 };
        else
            events.Add(new PodEvent(now, type, reason, message));
        if (events.Count > MaxEvents) events.RemoveRange(0, events.Count - MaxEvents);
        state.State = state.State with { Events = events };
    }
}
