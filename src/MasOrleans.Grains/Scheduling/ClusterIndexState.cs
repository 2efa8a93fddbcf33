using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// What the index persists: names and pod phases only. Node views are not stored twice; the index asks
/// each node grain for its view when it activates.
/// </summary>
[GenerateSerializer, Alias("mas.index-state")]
public sealed record ClusterIndexState(
    [property: Id(0)] IReadOnlyList<string> Nodes,
    [property: Id(1)] IReadOnlyDictionary<string, PodEntry> Pods,
    [property: Id(2)] string? DefaultPolicy)
{
    public ClusterIndexState() : this([], new Dictionary<string, PodEntry>(), null) { }
}
