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
    /// <summary>
    /// The container as it is, null while it has no node (Created, never started or stopped). Kept as the view the pod
    /// records (<see cref="PodState.Container"/>), so a Running pod holds one copy of it, not a second in another shape.
    /// </summary>
    private ContainerView? _state;

    /// <summary>When a running container is planned to exit (the pod's exit timer is due then), else null.</summary>
    public DateTimeOffset? RunUntil => PlannedExit(_state);

    /// <summary>
    /// When a recorded container is planned to exit: only a Running one has an exit still to come, at the end of its run
    /// or at its pod's active deadline (<see cref="ContainerView.Deadline"/>), whichever comes first.
    /// </summary>
    public static DateTimeOffset? PlannedExit(ContainerView? view) =>
        view is not { Phase: ContainerPhase.Running } running ? null
        : running is { RunUntil: { } until, Deadline: { } deadline } ? (deadline < until ? deadline : until)
        : running.RunUntil ?? running.Deadline;

    /// <summary>Whether the running container's planned exit at <paramref name="now"/> is its pod's deadline, not the end of its run.</summary>
    public bool DeadlineReached(DateTimeOffset now) =>
        _state is { Phase: ContainerPhase.Running, Deadline: { } deadline } running && deadline <= now && !(running.RunUntil < deadline);

    /// <summary>
    /// Gives the running container its pod's active deadline, <paramref name="seconds"/> after the pod's
    /// <paramref name="startTime"/> (<see cref="PodStartTime"/>: the kubelet counts from status.startTime, before the
    /// image pull, not from the container's start); null seconds leave it without. Returns the container as it is.
    /// </summary>
    public ContainerView? LimitTo(long? seconds, DateTimeOffset? startTime)
    {
        if (_state is { Phase: ContainerPhase.Running } running)
            _state = running with { Deadline = seconds is { } s && startTime is { } start ? start.AddSeconds(s) : null };
        return _state;
    }

    /// <summary>The running container back as <paramref name="kept"/>, its view before a change whose write failed.</summary>
    public void PutBack(ContainerView kept)
    {
        if (_state is { Phase: ContainerPhase.Running } && kept is { Phase: ContainerPhase.Running }) _state = kept;
    }

    /// <summary>Starts on <paramref name="node"/> unless it already runs there; says whether the image had to be pulled.</summary>
    public async Task<(ContainerView View, bool Pulled)> StartAsync(string node, string? image, double? runSeconds)
    {
        if (_state is { Phase: ContainerPhase.Running } running && running.Node == node) return (running, false);
        var created = new ContainerView(id, ContainerPhase.Created, node, image, false, null, null, null);
        _state = created;
        var started = await runtime.StartAsync(node, id, image);
        var now = clock.GetUtcNow();
        DateTimeOffset? until = started.ExitAfter is { } exitAfter ? now + exitAfter : runSeconds is > 0 ? now.AddSeconds(runSeconds.Value) : null;
        _state = created with
        {
            Phase = ContainerPhase.Running, ImageWasCached = started.ImageWasCached, StartedAt = now, RunUntil = until, PlannedExitCode = started.ExitCode ?? 0,
        };
        return (_state, !started.ImageWasCached && image is not null);
    }

    /// <summary>After a restart: the container the pod recorded as Running runs on (and exits when planned).</summary>
    public bool Restore(ContainerView running)
    {
        if (_state is { Phase: not ContainerPhase.Created } || running.Phase != ContainerPhase.Running) return false;
        // The record the pod restored, itself when it is already as kept (the usual case): the pod's state holds it anyway.
        _state = running.Id == id && running is { FinishedAt: null, ExitCode: null } ? running : running with { Id = id, FinishedAt = null, ExitCode = null };
        return true;
    }

    public async Task StopAsync()
    {
        if (_state is { Phase: ContainerPhase.Running, Node: { } node }) await runtime.StopAsync(node, id);
        _state = null;
    }

    /// <summary>Stops the container as planned and returns its Exited view, or null if it is not running.</summary>
    public async Task<ContainerView?> ExitAsync(CancellationToken cancellation)
    {
        if (_state is not { Phase: ContainerPhase.Running } running) return null;
        await runtime.StopAsync(running.Node, id, cancellation);
        _state = running with { Phase = ContainerPhase.Exited, FinishedAt = clock.GetUtcNow(), ExitCode = running.PlannedExitCode };
        return _state;
    }

    public ContainerView? Get() => _state;
}
