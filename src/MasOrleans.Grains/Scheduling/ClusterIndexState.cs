namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// What the index persists: the node names and the runtime default policy, written only when a node joins or leaves or
/// the policy changes. Pods are not copied here: their own records are the truth, and the queue shards rebuild the
/// listing from them (<see cref="Storage.IPodDirectory"/>).
/// </summary>
[GenerateSerializer, Alias("mas.index-state")]
public sealed record ClusterIndexState(
    [property: Id(0)] IReadOnlyList<string> Nodes,
    [property: Id(2)] string? DefaultPolicy)
{
    public ClusterIndexState() : this([], null) { }
}
