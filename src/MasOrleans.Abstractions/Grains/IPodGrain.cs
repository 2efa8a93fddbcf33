using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>A task agent: one pod's spec, phase, placement and events, keyed by pod name.</summary>
public interface IPodGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stores the pod as Pending and asks a scheduler for a node without waiting for it; answers with the stored pod.
    /// <paramref name="annotations"/> are the client's metadata.annotations, kept with the pod (null: none);
    /// <paramref name="containerName"/> names the pod's one container as its manifest did (null: as the pod);
    /// <paramref name="manifest"/> is the Kubernetes surface's pod spec as given (JSON, bounded), kept to be served back.
    /// The pod's creation time is the spec's <see cref="PodSpec.CreatedAt"/> when given (a pod Kubernetes created, bound
    /// through the extender), else the pod grain's clock.
    /// </summary>
    Task<PodCreation> Create(PodSpec spec, string? workload, IReadOnlyDictionary<string, string>? annotations = null, string? containerName = null, string? manifest = null);

    /// <summary>
    /// Replaces the pod's labels and the client's annotations (null or empty: none), what of a pod changes after
    /// creation, as a Kubernetes pod's metadata does. New labels reach where scheduling reads them: the node holding the
    /// pod (<see cref="INodeGrain.Relabel"/>: other pods' affinity and spread count it by them) or, for a waiting pod, its
    /// queue. Answers with the stored pod, or null when there is no pod.
    /// </summary>
    Task<PodView?> SetMetadata(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string>? annotations);

    /// <summary>
    /// Gives a pod stored before its limits and zero requests were kept (<see cref="PodSpec.Limits"/>,
    /// <see cref="PodSpec.ZeroRequests"/> null) those of the manifest applied to it now; what the pod already knows stays.
    /// Not read by scheduling. Answers with the stored pod, or null when there is no pod.
    /// </summary>
    Task<PodView?> KnowLimits(IReadOnlyDictionary<string, string> limits, IReadOnlyList<string> zeroRequests);

    /// <summary>
    /// Sets the pod's spec.activeDeadlineSeconds (the caller has checked that it sets one or lowers it, as the API server
    /// allows). A running container takes it at once, counted from its start: a deadline already passed fails the pod now
    /// (reason DeadlineExceeded). Answers with the stored pod, or null when there is no pod.
    /// </summary>
    Task<PodView?> SetActiveDeadline(long seconds);

    /// <summary>Read-only and interleaved: node grains and the reconciler ask while the pod may be waiting on a node.</summary>
    [AlwaysInterleave]
    Task<PodView?> Get();

    /// <summary>
    /// Deletes the pod, freeing its node. <paramref name="podCreatedAt"/> names the pod of the name to delete (as for
    /// <see cref="Evict"/>): another pod of the name, created since the caller read the pod, refuses with Conflict. Null
    /// deletes whichever pod has the name.
    /// </summary>
    Task<Outcome> Delete(DateTimeOffset? podCreatedAt = null);

    /// <summary>
    /// Called by the scheduling cycle after the node reserved. Returns the pod's listing entry when it holds the placement
    /// (the calling shard lists it, so the pod sends no report of its own), null when the pod no longer wants a node (deleted).
    /// </summary>
    Task<PodEntry?> MarkScheduled(Placement placement);

    /// <summary>
    /// Called by the scheduling cycle when its preemption chose <paramref name="node"/> for the waiting pod, before any
    /// victim is evicted: holds the room there (<see cref="INodeGrain.Nominate"/>), drops a nomination elsewhere, and shows
    /// the node as the pod's nominated node (kube's status.nominatedNodeName) until the pod binds or is deleted.
    /// <paramref name="podCreatedAt"/> names the pod of the name the cycle ran for (<see cref="PodSpec.CreatedAt"/>): a pod
    /// created again since ignores it, as it ignores <see cref="MarkUnschedulable"/>. Answers the pods, of any silo, the
    /// node holds below its priority, for the cycle to clear their nomination (<see cref="ClearNomination"/>).
    /// <paramref name="failure"/>, when given, is why the pod fit nowhere, recorded with the nomination as a
    /// FailedScheduling event, as kube-scheduler records one for a preemptor (handleSchedulingFailure).
    /// </summary>
    Task<Nomination> Nominate(string node, DateTimeOffset? podCreatedAt = null, string? failure = null);

    /// <summary>
    /// Records the failed placement; <paramref name="clearNomination"/> (the cycle's preemption found no node to free)
    /// also ends the pod's nomination, its hold included. A pod created again since the cycle's pod
    /// (<paramref name="podCreatedAt"/>) ignores it: the failure is the deleted pod's.
    /// </summary>
    Task MarkUnschedulable(string message, bool clearNomination = false, DateTimeOffset? podCreatedAt = null);

    /// <summary>
    /// Called by the scheduling cycle of a preemptor of higher priority that chose <paramref name="node"/>: the pod is
    /// nominated there no more (kube's prepareCandidate, clearNominatedNodeName), its hold there included, and looks for
    /// a node afresh in its next cycle. <paramref name="version"/> names the nomination cleared
    /// (<see cref="Nomination.Version"/>, as the cycle's view or the node held it): a pod nominated anew since (elsewhere
    /// or there), bound, or created again since (<paramref name="podCreatedAt"/>) ignores it, so a clear asked again
    /// after its answer was lost leaves what the pod did meanwhile.
    /// </summary>
    Task ClearNomination(string node, long version, DateTimeOffset? podCreatedAt = null);

    /// <summary>
    /// Fails the pod with <paramref name="reason"/> (NodeLost, Preempted, Drained) and frees its node, if it still
    /// holds <paramref name="node"/>; false otherwise. Its workload, if any, replaces it. <paramref name="podCreatedAt"/>
    /// names the pod of the name to evict (a preemption's victim, chosen before a pod of its name was deleted and created
    /// again): another pod of the name refuses, as it refuses <see cref="MarkScheduled"/>. Null evicts whichever holds the node.
    /// </summary>
    Task<bool> Evict(string node, string reason, string message, DateTimeOffset? podCreatedAt = null);

    /// <summary>
    /// <paramref name="node"/> is being deleted: evicts the pod as <see cref="Evict"/> does (reason Drained, its workload
    /// replaces it), then deletes it, as Kubernetes' pod GC deletes pods bound to a node that no longer exists
    /// (pkg/controller/podgc/gc_controller.go, gcOrphaned) and as kubectl drain's evictions do. A pod that finished
    /// (Failed, Succeeded) on <paramref name="node"/> is deleted as it is. False if it neither holds nor finished on the node.
    /// </summary>
    Task<bool> EvictForNodeDeletion(string node, string message);

    /// <summary>Re-reports the pod to the index and asks for scheduling again if it still waits (queue rebuild, reconciliation).</summary>
    [OneWay]
    Task Retry();

    /// <summary>
    /// Whether this activation still asks <paramref name="node"/> to free the room of the pod of this name created at
    /// <paramref name="podCreatedAt"/>, deleted while the node's silo was unavailable: that room is the deletion's to free,
    /// not its shard's reconciliation's. Read-only, so interleaved like <see cref="Get"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> ReleasePending(string node, DateTimeOffset? podCreatedAt);

    /// <summary>The pod's container (null before its first start and once stopped: deleted or failed); read-only, so interleaved like <see cref="Get"/>.</summary>
    [AlwaysInterleave]
    Task<ContainerView?> GetContainer();
}
