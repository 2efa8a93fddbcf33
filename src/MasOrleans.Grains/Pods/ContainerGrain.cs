using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using Orleans.Runtime;

namespace MasOrleans.Grains.Pods;

/// <summary>
/// One container's lifecycle (Created, Running, Exited), driven by the configured <see cref="IContainerRuntime"/>.
/// Its state lives in memory: the pod persists the Running container with its planned end, and restores it here
/// after a restart, so starting a pod costs no write of its own.
/// </summary>
[GrainType("mas-container")]
[ShardPlacement]
public sealed class ContainerGrain(IContainerRuntime runtime, TimeProvider clock) : Grain, IContainerGrain
{
    private ContainerState _state = new();
    private IGrainTimer? _exitTimer;

    private string Id => this.GetPrimaryKeyString();
    private string PodName => Id[..Id.LastIndexOf('/')];

    public async Task<ContainerView> Start(string node, string? image, double? runSeconds)
    {
        if (_state.Phase == ContainerPhase.Running && _state.Node == node) return View();
        _state = new ContainerState() with { Node = node, Image = image };
        var started = await runtime.StartAsync(node, Id, image);
        if (!started.ImageWasCached && image is not null) _ = GrainFactory.Reference<INodeGrain>(node).ImagePulled(image);
        var now = clock.GetUtcNow();
        DateTimeOffset? until = started.ExitAfter is { } exitAfter ? now + exitAfter : runSeconds is > 0 ? now.AddSeconds(runSeconds.Value) : null;
        _state = _state with
        {
            Phase = ContainerPhase.Running, ImageWasCached = started.ImageWasCached, StartedAt = now, RunUntil = until, PlannedExitCode = started.ExitCode ?? 0,
        };
        if (until is { } u) ScheduleExit(u);
        return View();
    }

    public Task Restore(ContainerView running)
    {
        if (_state.Phase != ContainerPhase.Created || running.Phase != ContainerPhase.Running) return Task.CompletedTask;
        _state = new ContainerState(ContainerPhase.Running, running.Node, running.Image, running.ImageWasCached, running.StartedAt, null, null,
            running.RunUntil, running.PlannedExitCode);
        if (running.RunUntil is { } until) ScheduleExit(until);
        return Task.CompletedTask;
    }

    public async Task Stop()
    {
        _exitTimer?.Dispose();
        if (_state.Node is { } node && _state.Phase == ContainerPhase.Running) await runtime.StopAsync(node, Id);
        _state = new ContainerState();
        DeactivateOnIdle();
    }

    public Task<ContainerView?> Get() => Task.FromResult(_state.Node is null ? null : View());

    /// <summary>Orleans timers cannot be armed much beyond 49 days; a later exit re-arms on waking.</summary>
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(30);

    private void ScheduleExit(DateTimeOffset until)
    {
        var due = until - clock.GetUtcNow();
        if (due > LongestTimer) due = LongestTimer;
        _exitTimer = this.RegisterGrainTimer(Exit, new GrainTimerCreationOptions(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task Exit(CancellationToken cancellation)
    {
        if (_state.Phase != ContainerPhase.Running) return;
        if (_state.RunUntil is { } until && clock.GetUtcNow() < until)
        {
            ScheduleExit(until);
            return;
        }
        await runtime.StopAsync(_state.Node!, Id, cancellation);
        _state = _state with { Phase = ContainerPhase.Exited, FinishedAt = clock.GetUtcNow(), ExitCode = _state.PlannedExitCode };
        await GrainFactory.Reference<IPodGrain>(PodName).ContainerChanged(View());
    }

    private ContainerView View() =>
        new(Id, _state.Phase, _state.Node ?? "", _state.Image, _state.ImageWasCached, _state.StartedAt, _state.FinishedAt, _state.ExitCode,
            _state.RunUntil, _state.PlannedExitCode);
}
