using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// One shard of the scheduling queue, keyed by its number ("0".."N-1", <see cref="QueueShards"/>): the pending pods
/// whose names hash to it, in priority (or shortest-job-first) order, placed by scheduling cycles that run on the
/// shard's own silo. Shards are spread over the silos, so every silo places pods.
/// </summary>
public interface ISchedulingQueueGrain : IGrainWithStringKey
{
    /// <summary>Activates the shard (on a surviving silo after its silo died); a no-op when it runs.</summary>
    Task Ping();

    /// <summary>
    /// Completes once none of the shard's scheduling cycles still runs (its silo is stopping and starts no more), or at the
    /// shard's limit, with a Warning saying how many still ran.
    /// </summary>
    Task Drain();

    /// <param name="nominatedNode">
    /// The node the pod's status names (nominatedNodeName, stored with the pod): the silo's view counts the pod there
    /// again unless it holds a nomination of the pod already, as a kube-scheduler that starts fills its nominator from
    /// the pods it is told of (v1.35 pkg/scheduler/backend/queue/nominator.go addNominatedPodUnlocked, ModeNoop). So a
    /// shard activated afresh (a restart, a move) keeps its preemptors' rooms.
    /// </param>
    /// <param name="nominationVersion">Which stored nomination that is (<see cref="Contracts.Nomination.Version"/>).</param>
    [OneWay]
    Task Enqueue(PodSpec pod, string? nominatedNode = null, long nominationVersion = 0);

    [OneWay]
    Task Remove(string pod);

    /// <summary>
    /// A preemptor's cycle, perhaps another silo's, cleared the pod's stored nomination <paramref name="version"/> to
    /// <paramref name="node"/> (<see cref="Contracts.Nomination.Version"/>): this shard's silo's view, where the pod's own
    /// cycles nominated it, counts that nomination there no more (a newer one of the pod's stays).
    /// </summary>
    [OneWay]
    Task NominationCleared(string pod, string node, long version);

    /// <summary>Capacity may have appeared: unschedulable pods become eligible again (after their backoff).</summary>
    [OneWay]
    Task ClusterChanged();

    /// <summary>
    /// Pods were bound: unschedulable pods whose required pod affinity or topology spread counts bound pods become
    /// eligible again (kube's AssignedPodAdded); the others keep waiting for capacity.
    /// </summary>
    [OneWay]
    Task AssignedPodAdded();

    /// <summary>A pod of this shard changed phase; the shard's pod table (what listings merge) takes it.</summary>
    [OneWay]
    Task PodChanged(PodEntry entry);

    /// <summary>
    /// A pod was created (or deleted, <paramref name="removed"/>): on completion the shard's pod table lists it (or no
    /// longer does), so a client that got its 202 finds the pod in the listing.
    /// </summary>
    Task Track(PodEntry entry, bool removed = false);

    /// <summary>A new pod: tracked as <see cref="Track"/> does, then queued.</summary>
    Task Admit(PodEntry entry, PodSpec pod);

    /// <summary>This shard's pods in name order, paged like the index's listing (which merges every shard's).</summary>
    Task<Page<PodEntry>> ListPods(int offset, int limit, string? after);

    /// <summary>How many of this shard's pods are in each phase.</summary>
    Task<Dictionary<PodPhase, int>> CountPods();
}
