using System.Collections.Concurrent;
using k8s.Models;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Preemption;

namespace MasOrleans.Kubernetes;

/// <summary>
/// A kube-scheduler extender backed by MasOrleans policies: filter and prioritize run the policy's
/// filter and score plugins over the nodes kube-scheduler proposes; bind reserves the pod's resources
/// in the cluster source, posts the Binding, and commits (or releases) the reservation.
/// A pod picks its policy with the annotation <see cref="PolicyAnnotation"/>; otherwise the source's
/// default (the silo's runtime default policy) or <paramref name="defaultPolicy"/>.
/// </summary>
/// <param name="cannotDecide">
/// What a pod is told when its policy cannot decide, for an exception the policy threw (a learned model that does not
/// load); null for any other exception, which stays unexpected.
/// </param>
public sealed class SchedulerExtender(PolicyCatalog catalog, IExtenderClusterSource source, IPodBinder? binder, string defaultPolicy, int seed = 0,
    Func<string, Exception, string?>? cannotDecide = null)
{
    public const string PolicyAnnotation = "masorleans.io/policy";
    private const int MaxRememberedPods = 10_000;

    private readonly Random _random = new(seed);
    /// <summary>
    /// Pods seen by filter/prioritize with their policy and the typical pods of the cluster they were scored on: bind carries
    /// only names, and places on the one chosen node with the typical pods prioritize used (the node's own pods would give
    /// FGD another device for a shared pod).
    /// </summary>
    private readonly ConcurrentDictionary<string, RememberedPod> _recentPods = new(StringComparer.Ordinal);

    private sealed record RememberedPod(PodSpec Pod, string Policy, IReadOnlyList<TypicalPod> Typical);

    /// <summary>A candidate node of preemptVerb: the victims as kube-scheduler sent them, and the keys of those MasOrleans knows.</summary>
    private sealed record PreemptionCandidateVictims(MetaVictims Meta, IReadOnlySet<string> Keys);

    /// <summary>Refreshes the cluster source with the request's nodes, then filters.</summary>
    public async Task<ExtenderFilterResult> FilterAsync(ExtenderArgs args, CancellationToken cancellationToken) =>
        await RefreshAsync(args, cancellationToken) is { } error ? new ExtenderFilterResult { Error = error } : Filter(args);

    /// <summary>Refreshes the cluster source, then scores as <see cref="Prioritize(ExtenderArgs)"/>.</summary>
    public async Task<IReadOnlyList<HostPriority>> PrioritizeAsync(ExtenderArgs args, CancellationToken cancellationToken) =>
        await RefreshAsync(args, cancellationToken) is { } error ? throw new KubernetesMappingException(error) : Prioritize(args);

    public ExtenderFilterResult Filter(ExtenderArgs args)
    {
        if (!TryPrepare(args, out var pod, out var cluster, out var candidates, out var policy, out var typical, out var error))
            return new ExtenderFilterResult { Error = error! };
        try
        {
            return Filter(args, pod, cluster, candidates, policy, typical);
        }
        catch (Exception e) when (cannotDecide?.Invoke(policy, e) is { } message)
        {
            return new ExtenderFilterResult { Error = message };
        }
    }

    /// <summary>Scores the request's nodes; throws <see cref="KubernetesMappingException"/> on malformed args, <see cref="PolicyCannotDecideException"/> when the policy cannot decide.</summary>
    public IReadOnlyList<HostPriority> Prioritize(ExtenderArgs args)
    {
        if (!TryPrepare(args, out var pod, out var cluster, out var candidates, out var policy, out var typical, out var error))
            throw new KubernetesMappingException(error!);
        try
        {
            return Prioritize(pod, cluster, candidates, policy, typical);
        }
        catch (Exception e) when (cannotDecide?.Invoke(policy, e) is { } message)
        {
            throw new PolicyCannotDecideException(message, e);
        }
    }

    private ExtenderFilterResult Filter(ExtenderArgs args, PodSpec pod, ClusterState cluster, IReadOnlySet<int> candidates, string policy, IReadOnlyList<TypicalPod> typical)
    {
        var scheduler = SchedulerFor(policy, cluster, pod, typical);
        var explanation = Explain(scheduler, cluster, pod, candidates);
        var preemption = new DefaultPreemption(scheduler.Profile);
        var result = new ExtenderFilterResult();
        var passed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in explanation.Nodes)
        {
            if (node.Feasible) { passed.Add(node.Node); continue; }
            var reasons = string.Join("; ", node.Filters.Where(f => !f.Passed).Select(f => f.Reason));
            // kube-scheduler preempts only on FailedNodes (Unschedulable); a node in FailedAndUnresolvableNodes
            // (UnschedulableAndUnresolvable) is passed over, so no pod is evicted where evicting cannot make room.
            // A pod with preemptionPolicy Never evicts nobody (PodEligibleToPreemptOthers): no eviction can help it.
            var mightHelp = false;
            if (DefaultPreemption.EligibleToPreemptOthers(pod))
                lock (_random) mightHelp = preemption.MightHelpOn(cluster, pod, cluster.IndexOf(node.Node), _random);
            (mightHelp ? result.FailedNodes : result.FailedAndUnresolvableNodes)[node.Node] = reasons;
        }
        // No eviction makes a node known.
        foreach (var missing in MissingNodes(args, cluster)) result.FailedAndUnresolvableNodes[missing] = "node unknown to MasOrleans";
        // Answer in the form we were asked in: node objects or names.
        if (args.Nodes?.Items is { } items)
            result.Nodes = new V1NodeList { Items = items.Where(n => passed.Contains(n.Metadata.Name)).ToList() };
        else
            result.NodeNames = args.NodeNames!.Where(passed.Contains).ToList();
        return result;
    }

    private IReadOnlyList<HostPriority> Prioritize(PodSpec pod, ClusterState cluster, IReadOnlySet<int> candidates, string policy, IReadOnlyList<TypicalPod> typical)
    {
        var scheduler = SchedulerFor(policy, cluster, pod, typical);
        var profile = scheduler.Profile;
        var explanation = Explain(scheduler, cluster, pod, candidates);
        var weightSum = Math.Max(1, profile.Scores.Sum(s => s.Weight));
        var feasible = explanation.Nodes.Where(n => n.Feasible).Select(n => n.TotalScore).ToList();
        // Our totals are weighted sums of 0..100 scores; dividing by the weights gives 0..100, and by 10 kube's 0..10.
        // Policies that order equal scores below one point (fgd-ties, fgd-learned, fgd-adaptive, fgd-adaptive-wide: score x 2^20 + a tie value) give totals
        // beyond that range, which would all clamp to 10: theirs are spread over 0..10 from the lowest feasible total to the
        // highest, keeping their order.
        var (low, high) = feasible.Count > 0 ? (feasible.Min(), feasible.Max()) : (0, 0);
        long Priority(long total) => high <= weightSum * NodeScore.MaxNodeScore
            ? Math.Clamp(total / weightSum * ExtenderLimits.MaxExtenderPriority / NodeScore.MaxNodeScore, 0, ExtenderLimits.MaxExtenderPriority)
            : high == low ? ExtenderLimits.MaxExtenderPriority : (long)Math.Round((double)(total - low) * ExtenderLimits.MaxExtenderPriority / (high - low));
        return explanation.Nodes.Select(n => new HostPriority { Host = n.Node, Score = n.Feasible ? Priority(n.TotalScore) : 0 }).ToList();
    }

    /// <summary>
    /// preemptVerb: of kube-scheduler's candidate nodes, keeps those where evicting the victims it chose lets the pod pass the
    /// policy's filters as MasOrleans counts the node (GPU devices, shared fractions, every resource it models, the pods bound
    /// through it), with those victims unchanged, and drops the others. It only shrinks the candidates: kube-scheduler maps
    /// each victim back by UID among the pods it knows on the node and fails the whole preemption on one it does not
    /// (convertToVictims, pkg/scheduler/extender.go), so victims of MasOrleans' own choosing could not be named. A victim
    /// named by UID alone (nodeCacheCapable) is looked up as kube-scheduler does, among the pods bound on its node
    /// (convertPodUIDToPod), by the UID each pod bound through the extender keeps: any silo finds it, restarted or not.
    /// A victim MasOrleans does not know (bound by kube-scheduler without bindVerb) frees nothing it counts.
    /// Throws <see cref="KubernetesMappingException"/> on malformed args, <see cref="PolicyCannotDecideException"/> when the
    /// policy cannot decide.
    /// </summary>
    public async Task<ExtenderPreemptionResult> PreemptAsync(ExtenderPreemptionArgs args, CancellationToken cancellationToken)
    {
        // Refreshed first: UIDs are looked up among the pods bound on each candidate.
        await source.RefreshAsync([], cancellationToken);
        var candidates = PreemptionCandidates(args);
        // The cluster holds every node known (TryPrepare), as kube-scheduler's dry run counts them (its PreFilter state spans
        // the snapshot's nodes; preemption.go DryRunPreemption). Only the candidates are answered.
        if (!TryPrepare(new ExtenderArgs { Pod = args.Pod, NodeNames = candidates.Keys.ToList() }, out var pod, out var cluster, out _, out var policy, out var typical, out var error))
            throw new KubernetesMappingException(error!);
        try
        {
            var preemption = new DefaultPreemption(SchedulerFor(policy, cluster, pod, typical).Profile);
            var result = new ExtenderPreemptionResult();
            foreach (var (node, victims) in candidates)
            {
                // A node unknown here was answered unresolvable by filter; one without victims is no candidate (DryRunPreemption).
                var index = cluster.IndexOf(node);
                if (index < 0 || victims.Meta.Pods!.Count == 0) continue;
                bool fits;
                lock (_random) fits = preemption.FitsWithout(cluster, pod, index, victims.Keys, _random);
                if (fits) result.NodeNameToMetaVictims[node] = victims.Meta;
            }
            return result;
        }
        catch (Exception e) when (cannotDecide?.Invoke(policy, e) is { } message)
        {
            throw new PolicyCannotDecideException(message, e);
        }
    }

    /// <summary>The request's candidates, from NodeNameToVictims (pod objects) or else NodeNameToMetaVictims (UIDs).</summary>
    private Dictionary<string, PreemptionCandidateVictims> PreemptionCandidates(ExtenderPreemptionArgs args)
    {
        if (args.Pod is null) throw new KubernetesMappingException("ExtenderPreemptionArgs.Pod is required");
        var candidates = new Dictionary<string, PreemptionCandidateVictims>(StringComparer.Ordinal);
        if (args.NodeNameToVictims is { } byPods)
        {
            foreach (var (node, victims) in byPods)
            {
                var pods = VictimsOf(node, victims?.Pods, "NodeNameToVictims");
                var keys = new HashSet<string>(StringComparer.Ordinal);
                var meta = new List<MetaPod?>(pods.Count);
                foreach (var p in pods)
                {
                    // Its name checked before its UID is read: a victim without metadata is malformed, not a null dereference.
                    if (p.Metadata?.Name is not { Length: > 0 } name) throw new KubernetesMappingException($"NodeNameToVictims[{node}]: a victim has no metadata.name");
                    keys.Add(KubernetesNames.Key(p.Metadata.NamespaceProperty, name));
                    meta.Add(new MetaPod { Uid = p.Metadata.Uid ?? "" });
                }
                candidates[node] = new(new MetaVictims { Pods = meta, NumPDBViolations = victims!.NumPDBViolations }, keys);
            }
        }
        else if (args.NodeNameToMetaVictims is { } byUid)
        {
            foreach (var (node, victims) in byUid)
            {
                var pods = VictimsOf(node, victims?.Pods, "NodeNameToMetaVictims");
                if (pods.Any(p => string.IsNullOrEmpty(p.Uid))) throw new KubernetesMappingException($"NodeNameToMetaVictims[{node}]: a victim has no UID");
                var uids = pods.Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
                var keys = source.BoundPods(node).Where(b => b.Pod.Uid is { } uid && uids.Contains(uid)).Select(b => b.Pod.Name).ToHashSet(StringComparer.Ordinal);
                candidates[node] = new(new MetaVictims { Pods = pods.ToList<MetaPod?>(), NumPDBViolations = victims!.NumPDBViolations }, keys);
            }
        }
        else throw new KubernetesMappingException("ExtenderPreemptionArgs needs NodeNameToVictims or NodeNameToMetaVictims");
        return candidates;
    }

    private static List<T> VictimsOf<T>(string node, IList<T?>? pods, string what) where T : class =>
        string.IsNullOrEmpty(node) ? throw new KubernetesMappingException($"{what} must not name an empty node")
        : pods is null ? throw new KubernetesMappingException($"{what}[{node}] must list its victims' Pods")
        : KubernetesMapping.Each(pods, $"{what}[{node}].Pods").ToList();

    /// <summary>
    /// Reserve in MasOrleans first (the capacity authority refuses if the node filled up since filter),
    /// then post the Binding; a refused Binding gives the reservation back.
    /// </summary>
    public async Task<ExtenderBindingResult> BindAsync(ExtenderBindingArgs args, CancellationToken cancellationToken)
    {
        if (binder is null) return Failed("binding is not enabled on this extender (configure Extender__Kubernetes)");
        if (string.IsNullOrEmpty(args.PodName) || string.IsNullOrEmpty(args.Node)) return Failed("PodName and Node are required");
        var ns = string.IsNullOrEmpty(args.PodNamespace) ? KubernetesNames.DefaultNamespace : args.PodNamespace;
        string key;
        try { key = KubernetesNames.Key(ns, args.PodName); }
        catch (KubernetesMappingException e) { return Failed(e.Message); }
        // Without the pod's spec its resources could not be counted; kube-scheduler retries the pod through filter.
        if (!_recentPods.TryGetValue(key, out var seen)) return Failed($"pod {ns}/{args.PodName} was not filtered by this extender");
        // A default-namespace pod keys by its bare name, as a REST or kubectl pod does: one of that name already here is
        // another pod (or this one, bound before), and the node's reservation, idempotent per name, would take it for this.
        if (await source.PodExistsAsync(key, cancellationToken))
            return Failed($"a pod named {ns}/{args.PodName} already exists here (created through REST or kubectl, or bound before)");
        await source.RefreshAsync([], cancellationToken);
        var pod = seen.Pod with { NodeName = args.Node, Policy = seen.Policy };
        if (PlaceOn(pod, seen, args.Node) is not { } gpus) return Failed($"pod {ns}/{args.PodName} no longer fits on {args.Node}");
        if (await source.ReserveAsync(pod, args.Node, gpus, cancellationToken) is { } refused)
            return Failed($"{args.Node} refused pod {ns}/{args.PodName}: {refused}");
        try
        {
            await binder.BindAsync(ns, args.PodName, args.PodUID, args.Node, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or k8s.Exceptions.KubeConfigException)
        {
            await source.ReleaseAsync(pod, args.Node, CancellationToken.None);
            return Failed($"binding {ns}/{args.PodName} to {args.Node} failed: {e.Message}");
        }
        _recentPods.TryRemove(key, out _);
        await source.CommitAsync(pod, args.Node, gpus, cancellationToken);
        return new ExtenderBindingResult();
    }

    private static ExtenderBindingResult Failed(string error) => new() { Error = error };

    /// <summary>
    /// The policy's own placement (GPU devices included) restricted to the chosen node, or null when it does not fit: judged
    /// among every node known, as filter judged it (inter-pod affinity and spreading count the pods of all of them).
    /// </summary>
    private GpuAllocation? PlaceOn(PodSpec pod, RememberedPod seen, string nodeName)
    {
        if (source.FindNode(nodeName) is not { } node) return null;
        var cluster = new ClusterState();
        AddWithBoundPods(cluster, node, pod);
        AddOtherKnownNodes(cluster, pod);
        var explanation = Explain(SchedulerFor(seen.Policy, cluster, pod, seen.Typical), cluster, pod, new HashSet<int> { 0 });
        return explanation.ChosenNode == nodeName ? explanation.Gpus : null;
    }

    /// <summary>
    /// The node holding its bound pods except the one being scheduled. A request's node its bound pods do not fit at the size
    /// it is sent with keeps the size they were placed by, as the source knows it (a node grain takes a new size only once its
    /// pods fit) and bind places by: built at the size sent, the pods that did not fit were left out and the node looked emptier.
    /// </summary>
    private void AddWithBoundPods(ClusterState cluster, NodeSpec node, PodSpec pod)
    {
        var bound = source.BoundPods(node.Name).Where(b => b.Pod.Name != pod.Name).ToList();
        if (bound.Count > 0 && source.FindNode(node.Name) is { } known && (known.Capacity != node.Capacity || known.MaxPods != node.MaxPods)
            && !ClusterState.Holds(node, bound))
            node = node with { Capacity = known.Capacity, MaxPods = known.MaxPods };
        cluster.AddNode(node, bound);
    }

    private async Task<string?> RefreshAsync(ExtenderArgs args, CancellationToken cancellationToken)
    {
        List<NodeSpec> nodes;
        try { nodes = args.Nodes?.Items?.Select(KubernetesMapping.ToNodeSpec).ToList() ?? []; }
        catch (KubernetesMappingException e) { return e.Message; }
        await source.RefreshAsync(nodes, cancellationToken);
        return null;
    }

    /// <summary>The policy's verdicts and scores for the <paramref name="candidates"/> (indices in <paramref name="cluster"/>).</summary>
    private Explanation Explain(ProfileScheduler scheduler, ClusterState cluster, PodSpec pod, IReadOnlySet<int> candidates)
    {
        lock (_random) return scheduler.Explain(cluster, pod, _random, candidates);
    }

    /// <summary>
    /// Adds every node the source knows that <paramref name="cluster"/> does not hold yet, with its bound pods: kube-scheduler
    /// sends an extender only its candidates (the nodes its filters passed, nodeCacheCapable or not), but inter-pod affinity
    /// and topology spreading count the pods of every node (kube v1.35 plugins/interpodaffinity/filtering.go and
    /// podtopologyspread/filtering.go, scoring.go: PreFilter and PreScore over allNodes).
    /// </summary>
    private void AddOtherKnownNodes(ClusterState cluster, PodSpec pod)
    {
        foreach (var name in source.KnownNodeNames())
            if (cluster.IndexOf(name) < 0 && source.FindNode(name) is { } known) AddWithBoundPods(cluster, known, pod);
    }

    /// <summary>
    /// The policy with the typical pods the silo's cycle would give it (<see cref="TypicalPodsOf"/>: the pods bound on the
    /// nodes the source knows, or the pod at hand): FGD and its relatives score nothing without them.
    /// </summary>
    private ProfileScheduler SchedulerFor(string policy, ClusterState cluster, PodSpec pod, IReadOnlyList<TypicalPod> typical) =>
        new PolicySchedulers(catalog, new PolicyOptions { TypicalPods = typical }).Get(policy, cluster, pod)
            ?? throw new UnknownPolicyException(catalog.UnknownPolicyMessage(policy));

    /// <param name="candidates">The request's nodes known here, as indices in <paramref name="cluster"/>, which holds every node known.</param>
    private bool TryPrepare(ExtenderArgs args, out PodSpec pod, out ClusterState cluster, out IReadOnlySet<int> candidates, out string policy,
        out IReadOnlyList<TypicalPod> typical, out string? error)
    {
        pod = null!;
        cluster = null!;
        candidates = null!;
        typical = [];
        policy = source.DefaultPolicy ?? defaultPolicy;
        error = null;
        if (args.Pod is null) { error = "ExtenderArgs.Pod is required"; return false; }
        if (args.Nodes?.Items is null && args.NodeNames is null) { error = "ExtenderArgs needs Nodes or NodeNames"; return false; }
        if (args.Nodes?.Items is null && args.NodeNames!.Any(string.IsNullOrEmpty)) { error = "ExtenderArgs.NodeNames must not contain null or empty names"; return false; }
        try
        {
            // Kubernetes' metadata.creationTimestamp names this pod of its name (CreatedAt): one deleted and created again
            // under the name is later, so its node frees the deleted one's reservation for it instead of taking it for this
            // (to the second, as the API server stamps it: one created again within the second is taken for the same pod).
            pod = KubernetesMapping.ToPodSpec(args.Pod) with { CreatedAt = CreationTime(args.Pod), Uid = args.Pod.Metadata?.Uid is { Length: > 0 } uid ? uid : null };
            if (args.Pod.Metadata?.Annotations?.TryGetValue(PolicyAnnotation, out var p) == true)
                policy = string.IsNullOrEmpty(p) ? throw new KubernetesMappingException($"annotation {PolicyAnnotation} must name a policy") : p;
            // Named as registered ("FGD" decides and is counted as "fgd"): one policy, one metrics series.
            if (catalog.Canonical(policy) is not { } registered) { error = $"unknown policy '{policy}'"; return false; }
            policy = registered;
            cluster = new ClusterState();
            foreach (var spec in CandidateNodes(args)) AddWithBoundPods(cluster, spec, pod);
            candidates = Enumerable.Range(0, cluster.NodeCount).ToHashSet();
            AddOtherKnownNodes(cluster, pod);
            typical = TypicalPodsOf(cluster, pod);
        }
        catch (KubernetesMappingException e)
        {
            error = e.Message;
            return false;
        }
        // Remember the spec only when we may be asked to bind it, and keep the memory bounded.
        if (binder is not null)
        {
            if (_recentPods.Count > MaxRememberedPods) _recentPods.Clear();
            _recentPods[pod.Name] = new RememberedPod(pod, policy, typical);
        }
        return true;
    }

    /// <summary>The pod's metadata.creationTimestamp (the API server's, UTC); null when the request carries none.</summary>
    private static DateTimeOffset? CreationTime(V1Pod pod) => pod.Metadata?.CreationTimestamp is { } created
        ? new DateTimeOffset(created.Kind == DateTimeKind.Local ? created.ToUniversalTime() : DateTime.SpecifyKind(created, DateTimeKind.Utc))
        : null;

    /// <summary>
    /// From the pods bound on every node the source knows, as the silo's cycle and explain take them from its whole cluster:
    /// kube-scheduler sends prioritize only the nodes that passed filter, and their pods alone would be another workload.
    /// </summary>
    private IReadOnlyList<TypicalPod> TypicalPodsOf(ClusterState cluster, PodSpec pod)
    {
        var nodes = source.KnownNodeNames().Union(Enumerable.Range(0, cluster.NodeCount).Select(cluster.NameOf), StringComparer.Ordinal);
        var bound = nodes.SelectMany(source.BoundPods).Where(b => b.Pod.Name != pod.Name).Select(b => b.Pod).ToList();
        return PolicySchedulers.TypicalPodsOf(bound, pod);
    }

    private IEnumerable<NodeSpec> CandidateNodes(ExtenderArgs args)
    {
        // Each node once: the cluster is keyed by name, and a repeated or missing name is the caller's mistake (400).
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (args.Nodes?.Items is { } items)
        {
            foreach (var node in items)
            {
                var spec = KubernetesMapping.ToNodeSpec(node);
                if (!seen.Add(spec.Name)) throw new KubernetesMappingException($"node {spec.Name} is listed twice");
                source.ObserveNode(spec);
                yield return spec;
            }
            yield break;
        }
        foreach (var name in args.NodeNames!)
        {
            if (string.IsNullOrEmpty(name)) throw new KubernetesMappingException("NodeNames must not contain null or empty names");
            if (!seen.Add(name)) throw new KubernetesMappingException($"node {name} is listed twice");
            if (source.FindNode(name) is { } spec) yield return spec;
        }
    }

    private static IEnumerable<string> MissingNodes(ExtenderArgs args, ClusterState cluster) =>
        args.Nodes?.Items is not null ? [] : args.NodeNames!.Where(n => cluster.IndexOf(n) < 0);
}
