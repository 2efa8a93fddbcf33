using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Cycle;

/// <summary>The cluster the cycle decides on, and the policy for pods that name none.</summary>
public readonly record struct CycleSnapshot(ClusterState Cluster, string DefaultPolicy);

/// <summary>
/// Where the cycle reads the cluster (kube-scheduler's snapshot and cache). <see cref="WithCluster{T}"/> runs a
/// synchronous step with exclusive use of the state: the cycle decides there and "assumes" its choice (binds it
/// in the state before the node confirms), so concurrent cycles over the same source see each other's choices.
/// </summary>
public interface IClusterSnapshotSource
{
    ValueTask<T> WithCluster<T>(Func<CycleSnapshot, T> step);

    /// <summary>
    /// The cycle's assumption of the pod is forgotten (its reservation refused, or its pod gone before the bind); false
    /// when there was none. A source that wakes waiting pods wakes them here: the room was freed (kube's
    /// handleBindingCycleError, pkg/scheduler/schedule_one.go, moves every unschedulable pod on forgetting an assumed one).
    /// </summary>
    ValueTask<bool> ForgetAssumption(string pod) => WithCluster(s => s.Cluster.Unbind(pod));
}

/// <summary>The node's own word on capacity: the authority that settles races between schedulers.</summary>
public interface INodeReservations
{
    /// <summary>Atomically takes the pod's resources and devices; idempotent for a pod the node already holds.</summary>
    ValueTask<ReserveResult> Reserve(string node, PodSpec pod, GpuAllocation gpus);

    /// <summary>Frees the pod's room; frees nothing when the node holds another pod of its name (<see cref="PodSpec.CreatedAt"/>).</summary>
    ValueTask Release(string node, PodSpec pod);

    /// <summary>
    /// Holds the room a preemptor is freeing, so lower-priority pods cannot take it first. Returns the pods the node held
    /// room for below the preemptor, of any silo's cycles, each with the version of the nomination held (their
    /// nomination is cleared next). <paramref name="failure"/> is why the preemptor fit nowhere (the filters' message),
    /// which kube records as its FailedScheduling event although its preemption went ahead.
    /// </summary>
    ValueTask<IReadOnlyList<(PodSpec Pod, long Version)>> Nominate(string node, PodSpec preemptor, string failure);
}

public readonly record struct ReserveResult(bool Reserved, GpuAllocation Gpus, string? Reason)
{
    public static ReserveResult Held(GpuAllocation gpus) => new(true, gpus, null);
    public static ReserveResult Refused(string reason) => new(false, GpuAllocation.None, reason);
}

/// <summary>
/// Evicts a victim of preemption; returns once the victim no longer holds the node. Only the pod chosen
/// (<see cref="PodSpec.CreatedAt"/>): a pod created again under its name since is left alone, the victim taken as gone.
/// </summary>
public interface IPodEvictions
{
    ValueTask Evict(string node, PodSpec victim, string message);
}

/// <summary>Records the outcome on the pod (kube's bind and its FailedScheduling status).</summary>
public interface IBindingRecorder
{
    /// <summary>The pod is bound to the reserved node; false when the pod no longer wants a node (deleted meanwhile).</summary>
    ValueTask<bool> Bound(PodSpec pod, PodBinding binding);

    /// <param name="clearNomination">
    /// The cycle's preemption found no node to free: the pod is nominated nowhere any more (kube's PostFilter answers
    /// NominatedNodeName "" then, pkg/scheduler/framework/preemption/preemption.go Evaluator.Preempt, and
    /// handleSchedulingFailure clears status.nominatedNodeName and the nominator's entry).
    /// </param>
    ValueTask Unschedulable(PodSpec pod, string message, bool clearNomination = false);

    /// <summary>
    /// The pod, nominated to <paramref name="node"/> below a preemptor that chose that node, is nominated nowhere any more
    /// (kube's prepareCandidate: clearNominatedNodeName, a status patch): its status and the node's hold for it go.
    /// <paramref name="version"/> names that nomination (as the view or the node held it): a pod nominated anew since keeps
    /// the new one.
    /// </summary>
    ValueTask NominationCleared(PodSpec pod, string node, long version);
}

/// <summary>A bound decision: the node, the devices it holds, the chosen node's plugin scores, and the policy.</summary>
public sealed record PodBinding(string Node, GpuAllocation Gpus, IReadOnlyDictionary<string, long> Scores, string Policy);
