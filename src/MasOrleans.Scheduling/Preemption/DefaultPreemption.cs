using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Preemption;

/// <summary>One node where the preemptor fits once <see cref="Victims"/> are gone.</summary>
public sealed record PreemptionCandidate(string NodeName, int Node, IReadOnlyList<BoundPod> Victims)
{
    public int HighestVictimPriority => Victims.Count == 0 ? int.MinValue : Victims.Max(v => v.Pod.Priority);

    /// <summary>kube offsets each priority by MaxInt32+1 so that negative priorities still add up to more victims = larger.</summary>
    public long PrioritySum => Victims.Sum(v => (long)v.Pod.Priority + int.MaxValue + 1L);

    /// <summary>
    /// kube's util.GetEarliestPodStartTime: the earliest start among the victims of the highest priority. A pod's start
    /// time is its bind time here (<see cref="BoundPod.BoundAt"/>); one without (assumed by a cycle, not yet confirmed by
    /// its node) has not started, which GetPodStartTime counts as now: later than any bind time.
    /// </summary>
    public DateTimeOffset EarliestStartOfHighestPriority
    {
        get
        {
            var highest = HighestVictimPriority;
            var earliest = DateTimeOffset.MaxValue;
            foreach (var victim in Victims)
                if (victim.Pod.Priority == highest && victim.BoundAt is { } start && start < earliest) earliest = start;
            return earliest;
        }
    }
}

/// <summary>
/// What the PostFilter found: the node and victims it chose, or why no node can be freed, as kube words it after
/// "preemption: " (the dry run's FitError: "0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims found
/// for incoming pod.").
/// </summary>
public sealed record PreemptionOutcome(PreemptionCandidate? Chosen, string? FailureMessage);

/// <summary>
/// kube-scheduler's DefaultPreemption PostFilter (pkg/scheduler/framework/preemption/preemption.go and
/// plugins/defaultpreemption/default_preemption.go): a pod that fits nowhere may evict lower-priority pods from ONE node.
/// <list type="number">
/// <item>Potential nodes: those whose filters reject the pod for a reason removing pods can cure (kube's Unschedulable,
/// not UnschedulableAndUnresolvable: selectors, taints, cordons and readiness never qualify, nor a node with less of a
/// resource in all than the pod requests).</item>
/// <item>Minimal victims per node (SelectVictimsOnNode): remove every lower-priority pod; if the preemptor then passes all
/// of the profile's filters, put them back one by one, most important first (higher priority, then earlier bound:
/// util.MoreImportantPod orders by start time, for which the bind time stands, <see cref="BoundPod.BoundAt"/>; a pod
/// without one counts as started now, GetPodStartTime), keeping each whose return still lets the preemptor fit. PDB-violating victims are offered the reprieve first upstream; there are no PDBs here.</item>
/// <item>Only a node with at least one victim is a candidate (DryRunPreemption). Not every potential node is tried:
/// from a random offset (the caller's seeded source) the dry run walks the potential nodes until it holds
/// <see cref="NumCandidates"/> candidates, every node when there are up to 100 (GetOffsetAndNumCandidates).</item>
/// <item>Choice of node (pickOneNodeForPreemption): fewest PDB violations (no PDBs here), then the lowest
/// highest-victim priority, the smallest sum of victim priorities, the fewest victims, the latest start (bind time) of
/// the highest-priority victims, then the first node in order.</item>
/// </list>
/// The cluster is used as scratch and restored, pods in their bind order, before returning.
/// </summary>
public sealed class DefaultPreemption(SchedulingProfile profile)
{
    public SchedulingProfile Profile { get; } = profile;

    /// <summary>SelectVictimsOnNode's status for a node without a single lower-priority pod.</summary>
    public const string NoVictimsReason = "No preemption victims found for incoming pod";

    /// <summary>Preemption.go's status for nodes it does not try: their filters' rejection is unresolvable.</summary>
    public const string NotHelpfulReason = "Preemption is not helpful for scheduling";

    /// <summary>
    /// kube's PodEligibleToPreemptOthers (plugins/defaultpreemption/default_preemption.go): a pod with preemptionPolicy
    /// Never evicts nobody ("not eligible due to preemptionPolicy=Never."); it waits for room like a pod of no priority.
    /// </summary>
    public static bool EligibleToPreemptOthers(PodSpec pod) => pod.PreemptionPolicy != PreemptionPolicy.Never;

    /// <summary>
    /// What kube's FailedScheduling message adds after the filters' reasons for a pod that is not eligible: the PostFilter
    /// prefixes "preemption: " (DefaultPreemption.PostFilter) to PodEligibleToPreemptOthers' reason.
    /// </summary>
    public const string NotEligibleMessage = "preemption: not eligible due to preemptionPolicy=Never.";

    /// <summary>DefaultPreemptionArgs' defaults (pkg/scheduler/apis/config/v1/defaults.go), not configurable here.</summary>
    public const int MinCandidateNodesPercentage = 10, MinCandidateNodesAbsolute = 100;

    /// <summary>
    /// kube's calculateNumCandidates: how many candidates the dry run collects before it stops, of
    /// <paramref name="potentialNodes"/> nodes where removing pods might help.
    /// </summary>
    public static int NumCandidates(int potentialNodes) =>
        Math.Min(potentialNodes, Math.Max(potentialNodes * MinCandidateNodesPercentage / 100, MinCandidateNodesAbsolute));

    /// <summary>The best candidate, or null when no node can be freed for the pod.</summary>
    public PreemptionCandidate? Preempt(ClusterState cluster, PodSpec preemptor, Random random) =>
        Evaluate(cluster, preemptor, random).Chosen;

    /// <summary>
    /// The best candidate, or kube's message for why there is none: Evaluator.Preempt's FitError over every node's status
    /// from the dry run, prefixed "preemption: " as DefaultPreemption.PostFilter does.
    /// </summary>
    public PreemptionOutcome Evaluate(ClusterState cluster, PodSpec preemptor, Random random)
    {
        // A bound pod is no preemptor (kube only preempts for a pod it failed to place).
        if (cluster.TryGetPodLocation(preemptor.Name, out _, out _)) return new PreemptionOutcome(null, null);
        var candidates = new List<PreemptionCandidate>();
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        // One PreFilter pass for the first look at every node: between nodes the cluster is as it was.
        var context = PreFiltered(cluster, preemptor, random);
        var potential = new List<int>();
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (Rejection(context, n, out var unresolvable) is not null && !unresolvable) potential.Add(n);
            else reasons[NotHelpfulReason] = reasons.GetValueOrDefault(NotHelpfulReason) + 1;
        }
        // findCandidates: GetOffsetAndNumCandidates, then DryRunPreemption from the offset until it holds that many. Up to
        // MinCandidateNodesAbsolute potential nodes all are tried, so the offset would only reorder the candidates for the
        // last tie-break (upstream's is map order); none is drawn then, and the result is as it always was.
        var wanted = NumCandidates(potential.Count);
        var offset = wanted < potential.Count ? random.Next(potential.Count) : 0;
        for (var i = 0; i < potential.Count && candidates.Count < wanted; i++)
        {
            var n = potential[(offset + i) % potential.Count];
            if (SelectVictimsOnNode(cluster, preemptor, n, random, out var reason) is { } victims)
                candidates.Add(new PreemptionCandidate(cluster.NameOf(n), n, victims));
            else
                reasons[reason!] = reasons.GetValueOrDefault(reason!) + 1;
        }
        return candidates.Count > 0 || cluster.NodeCount == 0
            ? new PreemptionOutcome(PickOne(candidates), null)
            : new PreemptionOutcome(null, "preemption: " + FitError.Message(cluster.NodeCount, reasons));
    }

    /// <summary>
    /// Whether evicting pods could let the preemptor onto a node its filters reject: the nodes where this is false are the
    /// ones kube's preemption passes over (UnschedulableAndUnresolvable, nodesWherePreemptionMightHelp) or finds no victims
    /// on. Only the first step of <see cref="SelectVictimsOnNode"/>: one dry run per node, not one per victim.
    /// </summary>
    public bool MightHelpOn(ClusterState cluster, PodSpec preemptor, int node, Random random)
    {
        var inBindOrder = LowerInBindOrder(cluster, preemptor, node);
        return inBindOrder.Count > 0 && FitsWithout(cluster, preemptor, node, inBindOrder.Select(b => b.Pod.Name).ToHashSet(StringComparer.Ordinal), random);
    }

    /// <summary>
    /// Whether the preemptor passes the profile's filters on the node once the pods named <paramref name="victims"/> are
    /// gone from it (names not bound there free nothing); the cluster is restored before returning.
    /// </summary>
    public bool FitsWithout(ClusterState cluster, PodSpec preemptor, int node, IReadOnlySet<string> victims, Random random)
    {
        var original = cluster.Pods[node].ToList();
        foreach (var bound in original.Where(b => victims.Contains(b.Pod.Name))) cluster.Unbind(bound.Pod.Name);
        try
        {
            return Rejection(cluster, preemptor, node, random) is null;
        }
        finally
        {
            Restore(cluster, node, original);
        }
    }

    private static List<BoundPod> LowerInBindOrder(ClusterState cluster, PodSpec preemptor, int node) =>
        cluster.Pods[node].Where(bound => bound.Pod.Priority < preemptor.Priority).ToList();

    /// <summary>
    /// Puts the node's pods back as they were, in their bind order (which later what-ifs read as start order): the pods
    /// kept on the node are bound again too, or the removed ones would follow them. Each record itself, so the view's pods
    /// keep sharing the node grain's records after a what-if.
    /// </summary>
    private static void Restore(ClusterState cluster, int node, List<BoundPod> original)
    {
        foreach (var bound in cluster.Pods[node].ToList()) cluster.Unbind(bound.Pod.Name);
        foreach (var bound in original)
        {
            if (!cluster.TryBind(node, bound))
                throw new InvalidOperationException($"could not restore pod '{bound.Pod.Name}' on {cluster.NameOf(node)}");
        }
    }

    /// <summary>
    /// The minimal victim set (never empty) on a node whose filters reject the pod for a reason removing pods may cure, or
    /// null with kube's status for the node in <paramref name="reason"/>: no victims, or the filter that still rejects
    /// the pod without any of them.
    /// </summary>
    private IReadOnlyList<BoundPod>? SelectVictimsOnNode(ClusterState cluster, PodSpec preemptor, int node, Random random, out string? reason)
    {
        var inBindOrder = LowerInBindOrder(cluster, preemptor, node);
        if (inBindOrder.Count == 0)
        {
            reason = NoVictimsReason;
            return null;
        }
        var original = cluster.Pods[node].ToList();
        // Most important first: they are the first offered a reprieve (util.MoreImportantPod: higher priority, then the
        // earlier start time). A pod without a bind time (stored before they were kept, or assumed and not yet confirmed)
        // has not started: GetPodStartTime counts it as now, after every bind time. Bind order settles the rest.
        var lower = inBindOrder
            .Select((bound, order) => (bound, order))
            .OrderByDescending(x => x.bound.Pod.Priority).ThenBy(x => x.bound.BoundAt ?? DateTimeOffset.MaxValue).ThenBy(x => x.order)
            .Select(x => x.bound)
            .ToList();
        foreach (var bound in lower) cluster.Unbind(bound.Pod.Name);
        try
        {
            if ((reason = Rejection(cluster, preemptor, node, random)) is not null) return null;
            var victims = new List<BoundPod>();
            foreach (var bound in lower)
            {
                if (!cluster.TryBind(node, bound) || Rejection(cluster, preemptor, node, random) is not null)
                {
                    cluster.Unbind(bound.Pod.Name);
                    victims.Add(bound);
                }
            }
            // DryRunPreemption: a node the pod fits without evicting anyone is no candidate.
            if (victims.Count == 0) reason = $"expected at least one victim pod on node \"{cluster.NameOf(node)}\"";
            return victims.Count == 0 ? null : victims;
        }
        finally
        {
            Restore(cluster, node, original);
        }
    }

    /// <summary>kube's pickOneNodeForPreemption, criteria in order; the first candidate wins remaining ties.</summary>
    public static PreemptionCandidate? PickOne(IReadOnlyList<PreemptionCandidate> candidates)
    {
        PreemptionCandidate? best = null;
        foreach (var candidate in candidates)
            if (best is null || Preferred(candidate, best)) best = candidate;
        return best;
    }

    /// <summary>
    /// Whether <paramref name="a"/> wins over <paramref name="b"/> on the first criterion that tells them apart (kube keeps
    /// the nodes with the best score of each criterion in turn, which is this order). Criterion 1, fewest PDB violations,
    /// ties for all: there are no PDBs here.
    /// </summary>
    private static bool Preferred(PreemptionCandidate a, PreemptionCandidate b)
    {
        if (a.HighestVictimPriority != b.HighestVictimPriority) return a.HighestVictimPriority < b.HighestVictimPriority;
        if (a.PrioritySum != b.PrioritySum) return a.PrioritySum < b.PrioritySum;
        if (a.Victims.Count != b.Victims.Count) return a.Victims.Count < b.Victims.Count;
        return a.EarliestStartOfHighestPriority > b.EarliestStartOfHighestPriority;
    }

    /// <summary>The filters' first rejection of the pod on the node as the cluster now is, or null when it fits.</summary>
    private string? Rejection(ClusterState cluster, PodSpec pod, int node, Random random) =>
        Rejection(PreFiltered(cluster, pod, random), node, out _);

    private SchedulingContext PreFiltered(ClusterState cluster, PodSpec pod, Random random)
    {
        var context = new SchedulingContext(cluster, pod, random);
        foreach (var filter in Profile.Filters) filter.PreFilter(context);
        return context;
    }

    /// <summary>
    /// Runs the profile's filters for one node, as the scheduling cycle would (the pods nominated there ahead of the
    /// preemptor counted first, <see cref="NominatedPods"/>): null when the pod fits, else the first rejection and
    /// whether it is unresolvable (a PreFilter's rejection, or a node its PreFilters left out, is).
    /// </summary>
    private string? Rejection(SchedulingContext context, int node, out bool unresolvable)
    {
        unresolvable = true;
        if (context.PreFilterRejection is { } rejection) return rejection;
        if (context.CandidateNodes is { } nodes && Array.BinarySearch(nodes, node) < 0) return NotHelpfulReason;
        if (NominatedPods.TryFilterWith(Profile, context.Cluster, context.Pod, node, context.Random, (self: this, node),
                static (with, s) => s.self.FilterVerdict(with, s.node), out var first)
            && first.Reason is not null)
        {
            unresolvable = first.Unresolvable;
            return first.Reason;
        }
        (var reason, unresolvable) = FilterVerdict(context, node);
        return reason;
    }

    /// <summary>The first filter's rejection of the pod on the node and whether it is unresolvable; (null, false) when it fits.</summary>
    private (string? Reason, bool Unresolvable) FilterVerdict(SchedulingContext context, int node)
    {
        foreach (var filter in Profile.Filters)
        {
            if (context.IsSkipped(filter, out _)) continue;
            if (filter.Filter(context, node) is { } reason) return (reason, filter.IsUnresolvable(context, node, reason));
        }
        return (null, false);
    }
}
