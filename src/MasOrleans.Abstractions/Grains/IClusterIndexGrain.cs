using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// The cluster's directory, one per cluster (<see cref="ClusterIndex.Key"/>): the node names (persisted), the pod
/// listing and counts (merged from the queue shards, which keep their pods' phases), the runtime default policy, and
/// the registry of silo cluster views that node grains send their changes to. It is on no pod's path.
/// </summary>
public interface IClusterIndexGrain : IGrainWithStringKey
{
    /// <summary>Activates the index (and through it every node) and re-queues waiting pods; called at silo start.</summary>
    Task Warm();

    Task NodeAdded(string name);

    Task NodeRemoved(string name);

    /// <summary>Registers (or renews) a silo's cluster view; views not renewed within a few seconds are dropped.</summary>
    Task<ClusterMembership> Subscribe(IClusterObserver view);

    /// <summary>The views node grains send their changes to.</summary>
    Task<IReadOnlyList<IClusterObserver>> Observers();

    /// <summary>Every shard's pods merged in name order: a page from an offset, or after a continue token.</summary>
    Task<Page<PodEntry>> ListPods(int offset, int limit, string? after);

    Task<ClusterSummary> GetSummary();

    Task<string> GetDefaultPolicy();

    Task SetDefaultPolicy(string policy);
}
