using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// A node's persisted state apart from its pods: its spec (null until registered), its events, the images its
/// runtime has pulled, and whether a delete is draining it. The pods holding room on it are stored one entry per
/// pod (<see cref="Storage.INodeBindingStore"/>), so a reservation never rewrites this record. When it registered and when
/// its readiness last changed are served as Kubernetes' creationTimestamp and the Ready condition's lastTransitionTime;
/// a node stored before they were kept reads them as null. Whether it was Ready is written with each readiness change,
/// so a node that had gone NotReady is NotReady again after a restart; when it last reported with every write of this
/// record and at a graceful stop (<see cref="UnstoredReadings"/>), not with every reading (a write per report).
/// </summary>
[GenerateSerializer, Alias("mas.node-state")]
public sealed record NodeState(
    [property: Id(0)] NodeSpec? Spec,
    [property: Id(2)] bool HasReported,
    [property: Id(3)] IReadOnlyList<PodEvent>? Events = null,
    [property: Id(4)] IReadOnlyList<string>? Images = null,
    [property: Id(5)] bool Draining = false,
    [property: Id(6)] DateTimeOffset? RegisteredAt = null,
    [property: Id(7)] DateTimeOffset? ReadyChangedAt = null,
    [property: Id(8)] bool? Ready = null,
    [property: Id(9)] DateTimeOffset? LastTelemetryAt = null)
{
    public NodeState() : this(null, false) { }
}
