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

    /// <summary>Names of pods still waiting for a node (the scheduling queue rebuilds itself from them).</summary>
    Task<IReadOnlyList<string>> WaitingPods();

    /// <summary>The cached views of the named nodes that exist (the autoscaler reads their utilization).</summary>
    Task<IReadOnlyList<NodeView>> GetNodes(IReadOnlyList<string> names);

    Task<string> GetDefaultPolicy();

    Task SetDefaultPolicy(string policy);
}

public static class ClusterIndex
{
    public const string Key = "default";
}

/// <summary>
/// The cluster's scheduling queue (one, keyed <see cref="ClusterIndex.Key"/>): pending pods in priority (or
/// shortest-job-first) order, handed to scheduler workers a few at a time; unschedulable pods back off and wait
/// for a cluster change.
/// </summary>
public interface ISchedulingQueueGrain : IGrainWithStringKey
{
    [Orleans.Concurrency.OneWay]
    Task Enqueue(Scheduling.Model.PodSpec pod);

    [Orleans.Concurrency.OneWay]
    Task Remove(string pod);

    /// <summary>Capacity may have appeared: unschedulable pods become eligible again (after their backoff).</summary>
    [Orleans.Concurrency.OneWay]
    Task ClusterChanged();

    /// <summary>A worker's verdict on one attempt.</summary>
    [Orleans.Concurrency.OneWay]
    Task Completed(string pod, ScheduleVerdict verdict);

    Task<QueueStatus> GetStatus();
}

public enum ScheduleVerdict
{
    /// <summary>Placed, or the pod no longer waits: forget it.</summary>
    Done = 0,
    /// <summary>No node fits: wait for a cluster change.</summary>
    Unschedulable = 1,
    /// <summary>Reservations kept conflicting or an error occurred: retry after backoff.</summary>
    Retry = 2,
}

[GenerateSerializer, Immutable, Alias("mas.queue-status")]
public sealed record QueueStatus(
    [property: Id(0)] string Order,
    [property: Id(1)] int Active,
    [property: Id(2)] int Backoff,
    [property: Id(3)] int Unschedulable,
    [property: Id(4)] int InFlight);

/// <summary>The scheduling agent: stateless workers, any number per silo.</summary>
public interface ISchedulerGrain : IGrainWithIntegerKey
{
    /// <summary>Places the pod or marks it Unschedulable; the pod grain is told either way, so callers need not wait.</summary>
    [Orleans.Concurrency.OneWay]
    Task Schedule(Scheduling.Model.PodSpec pod);
}
