using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Pods;

/// <summary>A container's state, in its pod's memory: the pod persists what survives a restart (its Running record).</summary>
public sealed record ContainerState(
    ContainerPhase Phase,
    string? Node,
    string? Image,
    bool ImageWasCached,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int? ExitCode,
    DateTimeOffset? RunUntil,
    int PlannedExitCode = 0)
{
    public ContainerState() : this(ContainerPhase.Created, null, null, false, null, null, null, null) { }
}
