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
    [property: Id(10)] ContainerView? Container = null,
    [property: Id(11)] IReadOnlyDictionary<string, string>? Annotations = null,
    [property: Id(12)] string? ContainerName = null,
    [property: Id(13)] string? NominatedNodeName = null,
    [property: Id(14)] string? Manifest = null,
    [property: Id(15)] long NominationVersion = 0)
{
    public PodState() : this(null, PodPhase.Pending, null, GpuAllocation.None, [], new Dictionary<string, long>(), null, null, default) { }
}
