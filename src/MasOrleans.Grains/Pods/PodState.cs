using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Pods;

[GenerateSerializer, Alias("mas.pod-state")]
public sealed record PodState(
    [property: Id(0)] PodSpec? Spec,
    [property: Id(1)] PodPhase Phase,
    [property: Id(2)] string? NodeName,
    [property: Id(3)] GpuAllocation Gpus,
    [property: Id(4)] IReadOnlyList<PodEvent> Events,
    [property: Id(5)] IReadOnlyDictionary<string, long> Scores,
    [property: Id(6)] string? ScheduledBy,
    [property: Id(7)] string? Workload,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] string? Reason = null,
    [property: Id(10)] ContainerView? Container = null)
{
    public PodState() : this(null, PodPhase.Pending, null, GpuAllocation.None, [], new Dictionary<string, long>(), null, null, default) { }
}

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
