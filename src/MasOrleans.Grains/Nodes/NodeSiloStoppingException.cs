using Orleans.Runtime;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// A node grain refused a reservation because its silo is stopping (<see cref="SiloStopping"/>), and the node's next
/// activation could not be reached yet: an expected part of a graceful stop, not a failure. The queue shard logs it at
/// Information and queues the pod again. Thrown on the scheduling silo (<see cref="NodeReserver"/>), never sent
/// between silos.
/// </summary>
public sealed class NodeSiloStoppingException(string node, SiloAddress? host, string? reason)
    : Exception(reason ?? $"node {node}: its silo is stopping")
{
    public string Node { get; } = node;

    /// <summary>The stopping silo, when the node grain named it.</summary>
    public SiloAddress? Host { get; } = host;
}
