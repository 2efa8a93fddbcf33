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
}

/// <summary>
/// kube-scheduler's DefaultPreemption PostFilter (pkg/scheduler/framework/preemption and
/// plugins/defaultpreemption): a pod that fits nowhere may evict lower-priority pods from ONE node.
/// <list type="number">
/// <item>Candidates: nodes where removing every lower-priority pod makes the preemptor pass all of the profile's
/// filters (so nodes failing on selectors, taints or readiness never qualify: removing pods cannot fix them).</item>
/// <item>Minimal victims per node (SelectVictimsOnNode): put the removed pods back one by one, most important first
/// (higher priority, then earlier bound), keeping each one whose return still lets the preemptor fit.</item>
/// <item>Choice of node (pickOneNodeForPreemption): fewest PDB violations (no PDBs here), then the lowest
/// highest-victim priority, the smallest sum of victim priorities, the fewest victims, then the first node in
/// order (kube's next criterion, latest start time, needs pod start times the core does not keep).</item>
/// </list>
/// The cluster is used as scratch and restored before returning.
/// </summary>
public sealed class DefaultPreemption(SchedulingProfile profile)
{
    public SchedulingProfile Profile { get; } = profile;

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

    /// <summary>The best candidate, or null when no node can be freed for the pod.</summary>
    public PreemptionCandidate? Preempt(ClusterState cluster, PodSpec preemptor, Random random) =>
        PickOne(FindCandidates(cluster, preemptor, random));

    public IReadOnlyList<PreemptionCandidate> FindCandidates(ClusterState cluster, PodSpec preemptor, Random random)
    {
        var candidates = new List<PreemptionCandidate>();
        if (cluster.TryGetPodLocation(preemptor.Name, out _, out _)) return candidates;
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (SelectVictimsOnNode(cluster, preemptor, n, random) is { } victims)
                candidates.Add(new PreemptionCandidate(cluster.NameOf(n), n, victims));
        }
        return candidates;
    }

    /// <summary>
    /// Whether evicting pods could let the preemptor onto a node its filters reject: the nodes where this is false are the
    /// ones kube's preemption passes over (UnschedulableAndUnresolvable, nodesWherePreemptionMightHelp) or finds no victims
    /// on. A node without lower-priority pods has nothing to evict, so it keeps the verdict it failed with.
    /// Only the first step of <see cref="SelectVictimsOnNode"/>: one dry run per node, not one per victim.
    /// </summary>
    public bool MightHelpOn(ClusterState cluster, PodSpec preemptor, int node, Random random)
    {
        var lower = LowerPriorityPods(cluster, preemptor, node);
        if (lower.Count == 0) return false;
        foreach (var bound in lower) cluster.Unbind(bound.Pod.Name);
        try
        {
            return Fits(cluster, preemptor, node, random);
        }
        finally
        {
            Restore(cluster, node, lower);
        }
    }

    /// <summary>The minimal victim set on one node, or null when even removing every lower-priority pod is not enough.</summary>
    public IReadOnlyList<BoundPod>? SelectVictimsOnNode(ClusterState cluster, PodSpec preemptor, int node, Random random)
    {
        var lower = LowerPriorityPods(cluster, preemptor, node);
        if (lower.Count == 0) return Fits(cluster, preemptor, node, random) ? [] : null;
        foreach (var bound in lower) cluster.Unbind(bound.Pod.Name);
        var victims = new List<BoundPod>();
        try
        {
            if (!Fits(cluster, preemptor, node, random)) return null;
            foreach (var bound in lower)
            {
                if (!cluster.TryBind(node, bound.Pod, bound.Gpus) || !Fits(cluster, preemptor, node, random))
                {
                    cluster.Unbind(bound.Pod.Name);
                    victims.Add(bound);
                }
            }
            return victims;
        }
        finally
        {
            Restore(cluster, node, lower);
        }
    }

    /// <summary>The node's pods of lower priority than the preemptor, most important first: they are the first offered a reprieve.</summary>
    private static List<BoundPod> LowerPriorityPods(ClusterState cluster, PodSpec preemptor, int node) =>
        cluster.Pods[node]
            .Select((bound, order) => (bound, order))
            .Where(x => x.bound.Pod.Priority < preemptor.Priority)
            .OrderByDescending(x => x.bound.Pod.Priority).ThenBy(x => x.order)
            .Select(x => x.bound)
            .ToList();

    /// <summary>Binds again every one of <paramref name="pods"/> that is not bound right now (all of them after a failed dry run, the victims after a successful one).</summary>
    private static void Restore(ClusterState cluster, int node, List<BoundPod> pods)
    {
        foreach (var bound in pods)
        {
            if (!cluster.TryGetPodLocation(bound.Pod.Name, out _, out _) && !cluster.TryBind(node, bound.Pod, bound.Gpus))
                throw new InvalidOperationException($"could not restore pod '{bound.Pod.Name}' on {cluster.NameOf(node)}");
        }
    }

    /// <summary>kube's pickOneNodeForPreemption, criteria in order; the first candidate wins remaining ties.</summary>
    public static PreemptionCandidate? PickOne(IReadOnlyList<PreemptionCandidate> candidates)
    {
        if (candidates.Count == 0) return null;
        // A node needing no victims at all wins outright (kube returns it immediately).
        var free = candidates.FirstOrDefault(c => c.Victims.Count == 0);
        if (free is not null) return free;
        return candidates
            .Select((c, order) => (c, order))
            .OrderBy(x => x.c.HighestVictimPriority)
            .ThenBy(x => x.c.PrioritySum)
            .ThenBy(x => x.c.Victims.Count)
            .ThenBy(x => x.order)
            .First().c;
    }

    /// <summary>Runs the profile's filters for one node, as the scheduling cycle would.</summary>
    private bool Fits(ClusterState cluster, PodSpec pod, int node, Random random)
    {
        var context = new SchedulingContext(cluster, pod, random);
        foreach (var filter in Profile.Filters) filter.PreFilter(context);
        foreach (var filter in Profile.Filters)
        {
            if (context.IsSkipped(filter, out _)) continue;
            if (filter.Filter(context, node) is not null) return false;
        }
        return true;
    }
}
