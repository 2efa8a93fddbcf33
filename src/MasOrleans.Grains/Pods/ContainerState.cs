using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Pods;

/// <summary>A container's state, in its grain's memory: the pod persists what survives a restart (its Running record).</summary>
[GenerateSerializer, Alias("mas.container-state")]
public sealed record ContainerState(
    [property: Id(0)] ContainerPhase Phase,
    [property: Id(1)] string? Node,
    [property: Id(2)] string? Image,
    [property: Id(3)] bool ImageWasCached,
    [property: Id(4)] DateTimeOffset? StartedAt,
    [property: Id(5)] DateTimeOffset? FinishedAt,
    [property: Id(6)] int? ExitCode,
    [property: Id(7)] DateTimeOffset? RunUntil,
    [property: Id(8)] int PlannedExitCode = 0)
{
    public ContainerState() : this(ContainerPhase.Created, null, null, false, null, null, null, null) { }
}
