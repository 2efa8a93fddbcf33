using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Pods;

/// <summary>
/// A pod's container lifecycle (Created, Running, Exited), driven by the configured <see cref="IContainerRuntime"/>:
/// the seed's container manager, kept inside the pod's activation. It used to be a grain of its own, which cost every
/// pod a second activation and directory registration (a remote call on most pods once there are several silos) for
/// state that lives in memory anyway: the pod persists the Running container and restores it here after a restart.
/// The pod grain arms the exit timer (<see cref="RunUntil"/>), so this class needs no grain.
/// </summary>
public sealed class PodContainer(IContainerRuntime runtime, TimeProvider clock, string id)
{
    private ContainerState _state = new();

    /// <summary>When a running container is planned to exit (the pod's exit timer is due then), else null.</summary>
    public DateTimeOffset? RunUntil => _state.Phase == ContainerPhase.Running ? _state.RunUntil : null;

    /// <summary>Starts on <paramref name="node"/> unless it already runs there; says whether the image had to be pulled.</summary>
    public async Task<(ContainerView View, bool Pulled)> StartAsync(string node, string? image, double? runSeconds)
    {
        if (_state.Phase == ContainerPhase.Running && _state.Node == node) return (View(), false);
        _state = new ContainerState() with { Node = node, Image = image };
        var started = await runtime.StartAsync(node, id, image);
        var now = clock.GetUtcNow();
        DateTimeOffset? until = started.ExitAfter is { } exitAfter ? now + exitAfter : runSeconds is > 0 ? now.AddSeconds(runSeconds.Value) : null;
        _state = _state with
        {
            Phase = ContainerPhase.Running, ImageWasCached = started.ImageWasCached, StartedAt = now, RunUntil = until, PlannedExitCode = started.ExitCode ?? 0,
        };
        return (View(), !started.ImageWasCached && image is not null);
    }

    /// <summary>After a restart: the container the pod recorded as Running runs on (and exits when planned).</summary>
    public bool Restore(ContainerView running)
    {
        if (_state.Phase != ContainerPhase.Created || running.Phase != ContainerPhase.Running) return false;
        _state = new ContainerState(ContainerPhase.Running, running.Node, running.Image, running.ImageWasCached, running.StartedAt, null, null,
            running.RunUntil, running.PlannedExitCode);
        return true;
    }

    public async Task StopAsync()
    {
        if (_state.Node is { } node && _state.Phase == ContainerPhase.Running) await runtime.StopAsync(node, id);
        _state = new ContainerState();
    }

    /// <summary>Stops the container as planned and returns its Exited view, or null if it is not running.</summary>
    public async Task<ContainerView?> ExitAsync(CancellationToken cancellation)
    {
        if (_state.Phase != ContainerPhase.Running) return null;
        await runtime.StopAsync(_state.Node!, id, cancellation);
        _state = _state with { Phase = ContainerPhase.Exited, FinishedAt = clock.GetUtcNow(), ExitCode = _state.PlannedExitCode };
        return View();
    }

    public ContainerView? Get() => _state.Node is null ? null : View();

    private ContainerView View() =>
        new(id, _state.Phase, _state.Node ?? "", _state.Image, _state.ImageWasCached, _state.StartedAt, _state.FinishedAt, _state.ExitCode,
            _state.RunUntil, _state.PlannedExitCode);
}
