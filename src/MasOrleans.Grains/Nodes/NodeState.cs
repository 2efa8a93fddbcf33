using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Nodes;

/// <summary>A node's persisted state: its spec (null until registered) and the pods bound to it.</summary>
[GenerateSerializer, Alias("mas.node-state")]
public sealed record NodeState(
    [property: Id(0)] NodeSpec? Spec,
    [property: Id(1)] IReadOnlyList<BoundPod> Pods,
    [property: Id(2)] bool HasReported)
{
    public NodeState() : this(null, [], false) { }
}
