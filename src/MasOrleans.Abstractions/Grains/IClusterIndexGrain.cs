using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// Lists nodes and pods without scanning storage and serves versioned cluster snapshots to schedulers.
/// One per cluster, keyed <see cref="ClusterIndex.Key"/>.
/// </summary>
public interface IClusterIndexGrain : IGrainWithStringKey
{
    /// <summary>Activates the index (and through it every node) and re-queues waiting pods; called at silo start.</summary>
    Task Warm();

    Task NodeChanged(NodeView view);

    Task NodeRemoved(string name);

    /// <summary>The current snapshot, or null when <paramref name="knownVersion"/> is still current.</summary>
    Task<ClusterSnapshot?> GetSnapshot(long knownVersion);

    Task<Page<NodeView>> ListNodes(int offset, int limit, string? after);

    Task PodChanged(PodEntry entry);

    Task PodRemoved(string name);

    Task<Page<PodEntry>> ListPods(int offset, int limit, string? after);

    Task<ClusterSummary> GetSummary();

    Task<string> GetDefaultPolicy();

    Task SetDefaultPolicy(string policy);
}

public static class ClusterIndex
{
    public const string Key = "default";
}

/// <summary>The scheduling agent: stateless workers, any number per silo.</summary>
public interface ISchedulerGrain : IGrainWithIntegerKey
{
    /// <summary>Places the pod or marks it Unschedulable; the pod grain is told either way, so callers need not wait.</summary>
    [Orleans.Concurrency.OneWay]
    Task Schedule(Scheduling.Model.PodSpec pod);
}
