using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>The resource agent: one per node, keyed by node name, the authority on its capacity.</summary>
public interface INodeGrain : IGrainWithStringKey
{
    Task<Outcome> Register(NodeSpec spec);

    /// <summary>The full view with its incarnation and change count; read-only and interleaved, so a silo view can re-read it any time.</summary>
    [AlwaysInterleave]
    Task<NodeView?> GetView();

    Task<Outcome> Patch(NodePatch patch);

    /// <summary>
    /// A telemetry reading, delivered by a direct call so the caller learns it arrived: false when no node has this name
    /// (nothing is stored then). Not one-way and through no stream: a 202 for telemetry means the node holds it.
    /// </summary>
    Task<bool> ReportTelemetry(TelemetryReading reading);

    /// <summary>
    /// Removes an empty node at once; otherwise cordons it, evicts its pods (their workloads recreate them
    /// elsewhere) and removes it when the last one is gone (Accepted). Pods that belong to no workload would be
    /// lost, so they make it a Conflict unless <paramref name="force"/> (kubectl drain's rule). With Accepted, the node
    /// as the delete left it (cordoned, draining): a read after it may find the node already gone.
    /// </summary>
    Task<NodeDeletion> Delete(bool force = false);

    /// <summary>
    /// What <see cref="Delete"/> would answer now, by the same rule, changing nothing (a server dry run): nothing is
    /// removed, cordoned, stored or evicted.
    /// </summary>
    Task<NodeDeletion> JudgeDelete(bool force = false);

    [AlwaysInterleave]
    Task<IReadOnlyList<PodEvent>> GetEvents();

    /// <summary>
    /// Stores the time of the node's last telemetry reading, which readings alone do not write (a Redis write per report):
    /// a silo's graceful stop asks each of its node grains holding a newer one than stored, before they refuse writes.
    /// </summary>
    Task StoreLastTelemetry();

    /// <summary>The container runtime pulled an image onto this node: it feeds the image-locality score.</summary>
    [OneWay]
    Task ImagePulled(string image);

    /// <summary>Atomically takes the pod's resources and devices, or fails without change if they are no longer free.</summary>
    Task<Reservation> Reserve(PodSpec pod, GpuAllocation gpus);

    /// <summary>
    /// Holds the room a preemptor is freeing (kube's nominated node): until it reserves, or for 30 s (Scheduler__NominationHoldSeconds), pods of equal or
    /// lower priority may only take what is left beside it, so the victims' own replacements cannot take it first.
    /// A <paramref name="preempting"/> pod (not one holding its stored nomination again) is also answered the pods held
    /// below its priority, whose nomination its cycle clears (kube's prepareCandidate), each dropping its hold then;
    /// otherwise the answer is <see cref="Nomination.None"/>. <paramref name="version"/> names the pod's nomination
    /// this hold is for (<see cref="Nomination.Version"/>), which a clear of it names in turn.
    /// </summary>
    Task<Nomination> Nominate(PodSpec pod, bool preempting = false, long version = 0);

    /// <summary>
    /// Drops the pod's nomination here at once (kube's nominator, DeleteNominatedPodIfExists): it bound elsewhere, was
    /// deleted, or was nominated to another node. Nothing when it holds none, or holds one for another pod of the name than
    /// <paramref name="podCreatedAt"/> names (kube's nominator keys by pod UID: a deleted pod's late forget keeps the hold
    /// of one created again under its name; null drops whichever it holds).
    /// </summary>
    Task ForgetNomination(string podName, DateTimeOffset? podCreatedAt = null);

    /// <summary>
    /// Frees the pod's room; false when the node holds no pod of that name, or holds another pod of it than
    /// <paramref name="podCreatedAt"/> names (<see cref="PodSpec.CreatedAt"/>; null releases whichever it holds).
    /// </summary>
    Task<bool> Release(string podName, DateTimeOffset? podCreatedAt = null);

    /// <summary>
    /// The pod holding room here has new labels: its binding is stored with them and every silo's view told (as a
    /// <see cref="NodeChangeKind.PodBound"/> of the pod again), so other pods' inter-pod affinity and topology spread count
    /// it by them. False when the node holds no pod of that name, or another pod of it than <paramref name="podCreatedAt"/> names.
    /// </summary>
    Task<bool> Relabel(string podName, DateTimeOffset? podCreatedAt, IReadOnlyDictionary<string, string> labels);

}
