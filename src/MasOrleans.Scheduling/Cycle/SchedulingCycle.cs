using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Preemption;

namespace MasOrleans.Scheduling.Cycle;

/// <summary>
/// The one scheduling cycle every caller shares, the counterpart of kube-scheduler's scheduleOne: read the
/// snapshot, filter and score (<see cref="ProfileScheduler"/>), select a host, assume it in the snapshot, reserve on
/// the node, preempt and nominate when nothing fits, bind, and only then run PostBind plugins (a learned policy's
/// experience is recorded for bound decisions alone). The service supplies the ports; the core has no Orleans.
/// </summary>
/// <remarks>
/// Safe to run many cycles concurrently over one source: every read or change of the cluster and of the schedulers
/// happens inside <see cref="IClusterSnapshotSource.WithCluster{T}"/>, which the source serializes.
/// </remarks>
public sealed class SchedulingCycle(
    PolicySchedulers schedulers,
    IClusterSnapshotSource snapshots,
    INodeReservations nodes,
    IPodEvictions evictions,
    IBindingRecorder recorder,
    CycleOptions options,
    Random random)
{
    private static readonly IReadOnlyDictionary<string, long> NoScores = new Dictionary<string, long>();

    public async ValueTask<CycleResult> Run(PodSpec pod)
    {
        string? lastRefusal = null;
        var preempted = false;
        var policy = pod.Policy ?? "";
        for (var attempt = 0; attempt < options.MaxAttempts; attempt++)
        {
            var decision = await snapshots.WithCluster(s => Decide(s, pod, allowPreemption: options.Preemption && !preempted));
            policy = decision.Policy;
            switch (decision.Kind)
            {
                case DecisionKind.UnknownPolicy:
                    var unknown = $"unknown policy '{policy}'";
                    await recorder.Unschedulable(pod, unknown);
                    return new CycleResult(CycleVerdict.Unschedulable, policy, Message: unknown, Reason: CycleResult.UnknownPolicy);
                case DecisionKind.NoFit:
                    await recorder.Unschedulable(pod, decision.Message!, decision.ClearsNomination);
                    return new CycleResult(CycleVerdict.Unschedulable, policy, Message: decision.Message, Reason: CycleResult.NoFit);
                case DecisionKind.AlreadyHeld:
                    // Reserved by an earlier attempt (a crash between reserve and bind, or a duplicate request). The view
                    // may be stale or merely assumed, so the node confirms: Reserve is idempotent for a pod it holds.
                    var held = await nodes.Reserve(decision.Node!, pod, decision.Gpus!);
                    if (held.Reserved) return await Bind(pod, new PodBinding(decision.Node!, held.Gpus, NoScores, policy), null);
                    await Forget(pod);
                    lastRefusal = $"{decision.Node}: {held.Reason}";
                    continue;
                case DecisionKind.Gone:
                    return new CycleResult(CycleVerdict.Gone, policy);
                case DecisionKind.Preempt:
                    preempted = true;
                    if (await Preempt(pod, decision) is { } bound) return bound;
                    continue;
            }
            var reservation = await ReserveAssumed(pod, decision.Node!, decision.Gpus!);
            if (reservation.Reserved)
                return await Bind(pod, new PodBinding(decision.Node!, reservation.Gpus, decision.Result!.PluginScores, policy), decision);
            lastRefusal = $"{decision.Node}: {reservation.Reason}";
        }
        var message = $"placement conflicted {options.MaxAttempts} times; last refusal {lastRefusal}";
        await recorder.Unschedulable(pod, message);
        return new CycleResult(CycleVerdict.Conflict, policy, Message: message, Reason: CycleResult.Conflicted);
    }

    /// <summary>Filter and score on the snapshot; a feasible choice is assumed (bound in the snapshot) at once.</summary>
    private Decision Decide(CycleSnapshot snapshot, PodSpec pod, bool allowPreemption)
    {
        var cluster = snapshot.Cluster;
        var policy = pod.Policy ?? snapshot.DefaultPolicy;
        if (cluster.TryGetPodLocation(pod.Name, out var heldNode, out var heldGpus))
        {
            var heldCreatedAt = HeldCreatedAt(cluster, heldNode, pod.Name);
            if (PodSpec.SameIncarnation(heldCreatedAt, pod.CreatedAt))
                return new Decision(DecisionKind.AlreadyHeld, policy, cluster.NameOf(heldNode), heldGpus);
            // Held for a pod of this name created since: this pod was deleted, and its late cycle must neither take the
            // newer pod's room out of the view nor place the deleted pod.
            if (PodSpec.DeletedSince(pod.CreatedAt, heldCreatedAt)) return new Decision(DecisionKind.Gone, policy);
            // Held for a pod of this name deleted since: not this pod's room. Its node frees it (when this pod reserves
            // there, or when the deleted pod's cycle releases it) and says so; until then the view counts it free.
            cluster.Unbind(pod.Name);
        }
        var scheduler = schedulers.Get(policy, cluster, pod);
        if (scheduler is null) return new Decision(DecisionKind.UnknownPolicy, policy);
        var result = scheduler.Schedule(cluster, pod, random);
        if (result.Success)
        {
            if (!cluster.TryBind(result.Node, pod, result.Gpus))
                throw new InvalidOperationException($"policy '{policy}' chose node {result.NodeName} for {pod.Name} but it does not fit: a filter or device selector is inconsistent");
            return new Decision(DecisionKind.Fit, policy, result.NodeName, result.Gpus, result, scheduler);
        }
        var message = result.FailureMessage ?? "no node fits";
        if (allowPreemption)
        {
            var (candidate, preemptionMessage) = PostFilter(scheduler.Profile, cluster, pod);
            if (candidate is not null)
            {
                // Nominated in the view at once, under its lock: from now on the filters of every cycle it serves count
                // the pod on that node, so no pod of lower priority takes the room it is freeing (kube's nominator).
                // Those nominated there below it are cleared (kube's prepareCandidate), each counted until its clear is heard.
                var below = cluster.NominatedBelow(candidate.Node, pod.Priority);
                cluster.Nominate(candidate.Node, pod);
                // kube's FitError after a PostFilter that nominated: the filters' message alone (DefaultPreemption says
                // nothing on success), recorded as the preemptor's FailedScheduling as kube's handleSchedulingFailure does.
                return new Decision(DecisionKind.Preempt, policy, candidate.NodeName, Message: message, Candidate: candidate, Scheduler: scheduler, NominationsBelow: below);
            }
            // A preemption that ran and found no node ends the pod's nomination; one the pod may not run leaves it.
            var clears = DefaultPreemption.EligibleToPreemptOthers(pod);
            if (clears) cluster.ForgetNomination(pod.Name);
            return new Decision(DecisionKind.NoFit, policy, Message: WithPostFilterMessage(message, preemptionMessage), ClearsNomination: clears);
        }
        return new Decision(DecisionKind.NoFit, policy, Message: message);
    }

    /// <summary>
    /// kube's PostFilter for a pod that fits nowhere: the node and victims DefaultPreemption chose, or what it says instead
    /// (not eligible, or why no node can be freed) for the FailedScheduling message.
    /// </summary>
    private PreemptionOutcome PostFilter(SchedulingProfile profile, ClusterState cluster, PodSpec pod) =>
        DefaultPreemption.EligibleToPreemptOthers(pod)
            ? new DefaultPreemption(profile).Evaluate(cluster, pod, random)
            : new PreemptionOutcome(null, DefaultPreemption.NotEligibleMessage);

    /// <summary>FitError.Error (pkg/scheduler/framework/types.go): the PostFilter's message follows the filters' after a space.</summary>
    private static string WithPostFilterMessage(string message, string? postFilterMessage) =>
        postFilterMessage is null ? message : $"{message} {postFilterMessage}";

    /// <summary>kube's DefaultPreemption PostFilter: nominate the node, evict the victims, then take the room at once.</summary>
    private async ValueTask<CycleResult?> Preempt(PodSpec pod, Decision decision)
    {
        var candidate = decision.Candidate!;
        // Hold the room first, so the victims' replacements (recreated at once by their workloads) cannot take it.
        var heldBelow = await nodes.Nominate(candidate.NodeName, pod, decision.Message!);
        await Task.WhenAll(candidate.Victims.Select(v => evictions.Evict(candidate.NodeName, v.Pod,
            $"preempted on {candidate.NodeName} by {pod.Name} (priority {pod.Priority} > {v.Pod.Priority})").AsTask()));
        // kube's prepareCandidate, after the victims: the pods nominated there below the preemptor are nominated nowhere
        // in their status and on the node either, so clients see it and the node's hold keeps no room for them. Those
        // this view holds, and those of other silos' cycles, which only the node held. Each by the version held, once; one
        // its pod has not stored yet has none to name (the node answers it, with its version, if it held it first).
        var below = (decision.NominationsBelow ?? []).Concat(heldBelow).Where(static l => l.Version != ClusterState.NotStored)
            .DistinctBy(static l => (l.Pod.Name, l.Pod.CreatedAt, l.Version));
        await Task.WhenAll(below.Select(lower => recorder.NominationCleared(lower.Pod, candidate.NodeName, lower.Version).AsTask()));
        // The victims freed the node before Evict returned; mirror that here for the device choice, and assume the pod.
        var gpus = await snapshots.WithCluster(s =>
        {
            // A victim deleted and created again meanwhile refused (the pod grain's Evict): gone all the same, and the view
            // keeps the pod of its name it may hold now.
            foreach (var victim in candidate.Victims)
                if (s.Cluster.TryGetPodLocation(victim.Pod.Name, out var held, out _) && PodSpec.SameIncarnation(HeldCreatedAt(s.Cluster, held, victim.Pod.Name), victim.Pod.CreatedAt))
                    s.Cluster.Unbind(victim.Pod.Name);
            var node = s.Cluster.IndexOf(candidate.NodeName);
            if (node < 0) return (GpuAllocation?)null;
            var selected = NominatedPods.SelectDevices(decision.Scheduler!.Profile, s.Cluster, node, pod, random);
            return s.Cluster.TryBind(node, pod, selected) ? selected : null;
        });
        if (gpus is null) return null;
        var reservation = await ReserveAssumed(pod, candidate.NodeName, gpus);
        return reservation.Reserved
            ? await Bind(pod, new PodBinding(candidate.NodeName, reservation.Gpus, NoScores, decision.Policy), null)
            : null;
    }

    /// <summary>Which pod of <paramref name="name"/> (its creation time) the view holds on <paramref name="node"/>.</summary>
    private static DateTimeOffset? HeldCreatedAt(ClusterState cluster, int node, string name) =>
        cluster.PodsOn(node).First(b => b.Pod.Name == name).Pod.CreatedAt;

    /// <summary>
    /// Reserves what the snapshot assumed; a refusal forgets the assumption. A failure keeps it: the reservation may have
    /// landed with its answer lost (the node's silo stopped or died meanwhile), so the pod's next attempt asks that node
    /// first (as a pod the snapshot holds), which confirms it or refuses, before the pod may go elsewhere.
    /// Forgotten, the pod was placed on another node while the first still held it, until the reconciliation freed it.
    /// </summary>
    private async ValueTask<ReserveResult> ReserveAssumed(PodSpec pod, string node, GpuAllocation gpus)
    {
        var reservation = await nodes.Reserve(node, pod, gpus);
        if (!reservation.Reserved) await Forget(pod);
        return reservation;
    }

    private async ValueTask<CycleResult> Bind(PodSpec pod, PodBinding binding, Decision? decision)
    {
        if (!await recorder.Bound(pod, binding))
        {
            await nodes.Release(binding.Node, pod);
            await Forget(pod);
            return new CycleResult(CycleVerdict.Gone, binding.Policy, binding.Node);
        }
        if (decision?.Result is { } result) decision.Scheduler!.PostBind(result);
        return new CycleResult(CycleVerdict.Bound, binding.Policy, binding.Node);
    }

    private ValueTask<bool> Forget(PodSpec pod) => snapshots.ForgetAssumption(pod.Name);

    /// <summary>
    /// Runs the profile's filters and scores for every node without assuming anything ("why did my pod land there?"); when
    /// nothing fits, also what the cycle's preemption would do (the node it would nominate and its victims), evicting nothing.
    /// </summary>
    public async ValueTask<Explanation?> Explain(PodSpec pod)
    {
        // The preemption what-if unbinds and rebinds pods: on a copy taken under the view's lock, run after it, so an
        // explain neither holds every cycle of the silo meanwhile nor touches the view the cycles share.
        var (explanation, copy, profile) = await snapshots.WithCluster(s =>
        {
            var scheduler = schedulers.Get(pod.Policy ?? s.DefaultPolicy, s.Cluster, pod);
            var explained = scheduler?.Explain(s.Cluster, pod, random);
            var preempts = explained is { ChosenNode: null } && options.Preemption && !s.Cluster.TryGetPodLocation(pod.Name, out _, out _);
            return (explained, preempts ? s.Cluster.Clone() : null, scheduler?.Profile);
        });
        if (explanation is null || copy is null) return explanation;
        var (candidate, message) = PostFilter(profile!, copy, pod);
        return candidate is null
            ? explanation with { FailureMessage = WithPostFilterMessage(explanation.FailureMessage ?? "no node fits", message) }
            : explanation with { NominatedNode = candidate.NodeName, Victims = [.. candidate.Victims.Select(v => v.Pod.Name)] };
    }

    private enum DecisionKind { Fit, NoFit, UnknownPolicy, AlreadyHeld, Preempt, Gone }

    private sealed record Decision(
        DecisionKind Kind,
        string Policy,
        string? Node = null,
        GpuAllocation? Gpus = null,
        ScheduleResult? Result = null,
        ProfileScheduler? Scheduler = null,
        PreemptionCandidate? Candidate = null,
        string? Message = null,
        bool ClearsNomination = false,
        List<(PodSpec Pod, long Version)>? NominationsBelow = null);
}
