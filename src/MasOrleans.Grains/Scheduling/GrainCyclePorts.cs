using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>The scheduling cycle's ports as grain calls: node grains reserve and release, pod grains record the outcome.</summary>
/// <param name="logger">Where a step the cycle goes on without (<see cref="NominationCleared"/>) logs its failure.</param>
/// <param name="scheduled">Receives the listing entry of each pod that took its placement (a queue shard batches it for the index).</param>
/// <param name="reserver">Sends reservations for node grains on other silos in batches (a queue shard's); without it, each
/// is its own call.</param>
/// <param name="nominationStored">Receives the pod, node and version of each nomination a preemptor stored (a queue
/// shard's silo's view, which nominated it there in the cycle's decision, so that a clear of it is matched).</param>
public sealed partial class GrainCyclePorts(
    IGrainFactory grains, ILogger logger, Action<PodEntry>? scheduled = null, NodeReserver? reserver = null, Action<string, string, long>? nominationStored = null)
    : INodeReservations, IPodEvictions, IBindingRecorder
{
    public async ValueTask<ReserveResult> Reserve(string node, PodSpec pod, GpuAllocation gpus)
    {
        var reservation = reserver is null ? await grains.Reference<INodeGrain>(node).Reserve(pod, gpus) : await reserver.Reserve(node, pod, gpus);
        // Thrown, not refused: no conflict with the node, so the cycle must not try other nodes or mark the pod unschedulable.
        if (reservation.SiloStopping) throw new NodeSiloStoppingException(node, reservation.Host, reservation.Reason);
        return new ReserveResult(reservation.Reserved, reservation.Gpus, reservation.Reason);
    }

    /// <summary>A node grain whose silo stops refuses it as that silo would: asked again, it reaches the node's next activation.</summary>
    public async ValueTask Release(string node, PodSpec pod)
    {
        if (reserver is not null) await reserver.Release(node, pod.Name, pod.CreatedAt);
        else await SiloStopping.AskedAgainWhileAnnounced(() => grains.Reference<INodeGrain>(node).Release(pod.Name, pod.CreatedAt));
    }

    /// <summary>Through the pod, which holds the room on the node and keeps the nomination for its status (see <see cref="IPodGrain.Nominate"/>).</summary>
    public async ValueTask<IReadOnlyList<(PodSpec Pod, long Version)>> Nominate(string node, PodSpec preemptor, string failure)
    {
        var nomination = await grains.Reference<IPodGrain>(preemptor.Name).Nominate(node, preemptor.CreatedAt, failure);
        if (nomination.Version != 0) nominationStored?.Invoke(preemptor.Name, node, nomination.Version);
        return [.. nomination.Below.Select(static held => (held.Pod, held.Version))];
    }

    /// <summary>The victim the dry run chose, not a pod created again under its name since (which refuses).</summary>
    public async ValueTask Evict(string node, PodSpec victim, string message) =>
        await grains.Reference<IPodGrain>(victim.Name).Evict(node, PodReasons.Preempted, message, victim.CreatedAt);

    public async ValueTask<bool> Bound(PodSpec pod, PodBinding binding)
    {
        var placement = new Placement(binding.Node, binding.Gpus, new Dictionary<string, long>(binding.Scores), binding.Policy, pod.CreatedAt);
        var entry = await AskPodAgainIfBroken(() => grains.Reference<IPodGrain>(pod.Name).MarkScheduled(placement));
        if (entry is null) return false;
        scheduled?.Invoke(entry);
        return true;
    }

    public async ValueTask Unschedulable(PodSpec pod, string message, bool clearNomination = false) =>
        await AskPodAgainIfBroken(async () =>
        {
            await grains.Reference<IPodGrain>(pod.Name).MarkUnschedulable(message, clearNomination, pod.CreatedAt);
            return true;
        });

    /// <summary>
    /// Not critical to the preemptor, whose victims are evicted by now: kube's prepareCandidate logs a failed
    /// clearNominatedNodeName and goes on (v1.35 pkg/scheduler/framework/preemption/preemption.go). A pod that does not
    /// answer (its silo gone, the call timed out) is logged; whether its clear was stored is not known, so it may keep the
    /// nomination, and the node its hold until it lapses. Its silo's view forgets it only when the pod says the clear was
    /// stored (<see cref="ISchedulingQueueGrain.NominationCleared"/>). Asked again, the clear names the same
    /// <paramref name="version"/>, so it leaves a nomination the pod made meanwhile.
    /// </summary>
    public async ValueTask NominationCleared(PodSpec pod, string node, long version) =>
        await LoggedSteps.Run(() => AskPodAgainIfBroken(async () =>
        {
            await grains.Reference<IPodGrain>(pod.Name).ClearNomination(node, version, pod.CreatedAt);
            return true;
        }), e => LogNominationNotCleared(logger, e, pod.Name, node));

    [LoggerMessage(EventId = 1209, Level = LogLevel.Warning, Message = "A preemption on node {Node} could not clear the nomination there of lower-priority pod {Pod}: the pod did not answer, so it may still show that node, and the node may hold its room until the hold lapses")]
    private static partial void LogNominationNotCleared(ILogger logger, Exception error, string pod, string node);

    /// <summary>
    /// A pod whose activation is on a silo stopping gracefully: Orleans rejects the call as that silo closes its
    /// messaging (or breaks it as the silo announces its stop), and the pod's next activation, elsewhere, is reached a
    /// moment later, once the pod left. Asked again, briefly, within <see cref="SiloStopping.AnnouncementWait"/>, as
    /// <see cref="NodeReserver"/> asks a node; the last failure reaches the cycle. Only for calls a pod answers the same
    /// when asked twice (a placement it already took, a failure or a cleared nomination it already recorded):
    /// a broken call may have landed.
    /// </summary>
    private static Task<T> AskPodAgainIfBroken<T>(Func<Task<T>> call) => SiloStopping.AskedAgainWhileAnnounced(call);
}
