using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Orleans.Runtime;

namespace MasOrleans.Grains.Pods;

/// <summary>One container's lifecycle (Created, Running, Exited), driven by the configured <see cref="IContainerRuntime"/>.</summary>
[GrainType("mas-container")]
public sealed class ContainerGrain(
    [PersistentState("container")] IPersistentState<ContainerState> state,
    IContainerRuntime runtime,
    TimeProvider clock) : Grain, IContainerGrain
{
    private IGrainTimer? _exitTimer;

    private string Id => this.GetPrimaryKeyString();
    private string PodName => Id[..Id.LastIndexOf('/')];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A container with a run time that was running before a restart exits when its time is up.
        if (state.State is { Phase: ContainerPhase.Running, RunUntil: { } until }) ScheduleExit(until);
        return Task.CompletedTask;
    }

    public async Task<ContainerView> Start(string node, string? image, double? runSeconds)
    {
        if (state.State.Phase == ContainerPhase.Running && state.State.Node == node) return View();
        state.State = new ContainerState() with { Node = node, Image = image };
        await state.WriteStateAsync();
        var started = await runtime.StartAsync(node, Id, image);
        if (!started.ImageWasCached && image is not null) _ = GrainFactory.GetGrain<INodeGrain>(node).ImagePulled(image);
        var now = clock.GetUtcNow();
        DateTimeOffset? until = started.ExitAfter is { } exitAfter ? now + exitAfter : runSeconds is > 0 ? now.AddSeconds(runSeconds.Value) : null;
        state.State = state.State with
        {
            Phase = ContainerPhase.Running, ImageWasCached = started.ImageWasCached, StartedAt = now, RunUntil = until, PlannedExitCode = started.ExitCode ?? 0,
        };
        await state.WriteStateAsync();
        if (until is { } u) ScheduleExit(u);
        return View();
    }

    public async Task Stop()
    {
        _exitTimer?.Dispose();
        if (state.State.Node is { } node && state.State.Phase == ContainerPhase.Running) await runtime.StopAsync(node, Id);
        await state.ClearStateAsync();
        state.State = new ContainerState();
        DeactivateOnIdle();
    }

    public Task<ContainerView?> Get() => Task.FromResult(state.State.Node is null ? null : View());

    private void ScheduleExit(DateTimeOffset until)
    {
        var due = until - clock.GetUtcNow();
        _exitTimer = this.RegisterGrainTimer(Exit, new GrainTimerCreationOptions(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task Exit(CancellationToken cancellation)
    {
        if (state.State.Phase != ContainerPhase.Running) return;
        await runtime.StopAsync(state.State.Node!, Id, cancellation);
        state.State = state.State with { Phase = ContainerPhase.Exited, FinishedAt = clock.GetUtcNow(), ExitCode = state.State.PlannedExitCode };
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IPodGrain>(PodName).ContainerChanged(View());
    }

    private ContainerView View() =>
        new(Id, state.State.Phase, state.State.Node ?? "", state.State.Image, state.State.ImageWasCached,
            state.State.StartedAt, state.State.FinishedAt, state.State.ExitCode);
}
