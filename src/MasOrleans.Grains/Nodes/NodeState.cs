using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// A node's persisted state: its spec (null until registered), the pods bound to it, its events, the images its
/// runtime has pulled, and whether a delete is draining it.
/// </summary>
[GenerateSerializer, Alias("mas.node-state")]
public sealed record NodeState(
    [property: Id(0)] NodeSpec? Spec,
    [property: Id(1)] IReadOnlyList<BoundPod> Pods,
    [property: Id(2)] bool HasReported,
    [property: Id(3)] IReadOnlyList<PodEvent>? Events = null,
    [property: Id(4)] IReadOnlyList<string>? Images = null,
    [property: Id(5)] bool Draining = false)
{
    public NodeState() : this(null, [], false) { }
}
