using System.Collections.Concurrent;
using k8s.Models;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Kubernetes;

/// <summary>
/// A kube-scheduler extender backed by MasOrleans policies: filter and prioritize run the policy's
/// filter and score plugins over the nodes kube-scheduler proposes; bind posts the Binding.
/// A pod picks its policy with the annotation <see cref="PolicyAnnotation"/>; otherwise the default.
/// </summary>
public sealed class SchedulerExtender(PolicyCatalog catalog, IExtenderClusterSource source, IPodBinder? binder, string defaultPolicy, int seed = 0)
{
    public const string PolicyAnnotation = "masorleans.io/policy";

    private readonly Random _random = new(seed);
    private readonly ConcurrentDictionary<string, PodSpec> _recentPods = new(StringComparer.Ordinal);

    public ExtenderFilterResult Filter(ExtenderArgs args)
    {
        if (!TryPrepare(args, out var pod, out var cluster, out var policy, out var error))
            return new ExtenderFilterResult { Error = error! };
        var explanation = Explain(policy, cluster, pod);
        var result = new ExtenderFilterResult();
        var passed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in explanation.Nodes)
        {
            if (node.Feasible) passed.Add(node.Node);
            else result.FailedNodes[node.Node] = string.Join("; ", node.Filters.Where(f => !f.Passed).Select(f => f.Reason));
        }
        foreach (var missing in MissingNodes(args, cluster)) result.FailedNodes[missing] = "node unknown to MasOrleans";
        // Answer in the form we were asked in: node objects or names.
        if (args.Nodes?.Items is { } items)
            result.Nodes = new V1NodeList { Items = items.Where(n => passed.Contains(n.Metadata.Name)).ToList() };
        else
            result.NodeNames = args.NodeNames!.Where(passed.Contains).ToList();
        return result;
    }

    public IReadOnlyList<HostPriority> Prioritize(ExtenderArgs args)
    {
        if (!TryPrepare(args, out var pod, out var cluster, out var policy, out var error))
            throw new KubernetesMappingException(error!);
        var profile = catalog.Create(policy);
        var explanation = Explain(policy, cluster, pod);
        var weightSum = Math.Max(1, profile.Scores.Sum(s => s.Weight));
        // Our totals are weighted sums of 0..100 scores; dividing by the weights gives 0..100, and by 10 kube's 0..10.
        return explanation.Nodes.Select(n => new HostPriority
        {
            Host = n.Node,
            Score = n.Feasible ? Math.Clamp(n.TotalScore / weightSum * ExtenderLimits.MaxExtenderPriority / NodeScore.MaxNodeScore, 0, ExtenderLimits.MaxExtenderPriority) : 0,
        }).ToList();
    }

    public async Task<ExtenderBindingResult> BindAsync(ExtenderBindingArgs args, CancellationToken cancellationToken)
    {
        if (binder is null) return new ExtenderBindingResult { Error = "binding is not enabled on this extender" };
        if (string.IsNullOrEmpty(args.PodName) || string.IsNullOrEmpty(args.Node))
            return new ExtenderBindingResult { Error = "PodName and Node are required" };
        try
        {
            await binder.BindAsync(string.IsNullOrEmpty(args.PodNamespace) ? "default" : args.PodNamespace, args.PodName, args.PodUID, args.Node, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException)
        {
            return new ExtenderBindingResult { Error = $"binding {args.PodNamespace}/{args.PodName} to {args.Node} failed: {e.Message}" };
        }
        var key = KubernetesMapping.PodKey(args.PodNamespace, args.PodName);
        if (_recentPods.TryRemove(key, out var pod)) source.RecordBinding(pod, args.Node, GpuAllocation.None);
        return new ExtenderBindingResult();
    }

    private Explanation Explain(string policy, ClusterState cluster, PodSpec pod)
    {
        var scheduler = new ProfileScheduler(catalog.Create(policy));
        lock (_random) return scheduler.Explain(cluster, pod, _random);
    }

    private bool TryPrepare(ExtenderArgs args, out PodSpec pod, out ClusterState cluster, out string policy, out string? error)
    {
        pod = null!;
        cluster = null!;
        policy = defaultPolicy;
        error = null;
        if (args.Pod is null) { error = "ExtenderArgs.Pod is required"; return false; }
        if (args.Nodes?.Items is null && args.NodeNames is null) { error = "ExtenderArgs needs Nodes or NodeNames"; return false; }
        try
        {
            pod = KubernetesMapping.ToPodSpec(args.Pod);
            policy = args.Pod.Metadata?.Annotations?.TryGetValue(PolicyAnnotation, out var p) == true ? p : defaultPolicy;
            if (!catalog.Contains(policy)) { error = $"unknown policy '{policy}'"; return false; }
            cluster = new ClusterState();
            foreach (var spec in CandidateNodes(args))
            {
                var n = cluster.AddNode(spec);
                foreach (var bound in source.BoundPods(spec.Name))
                {
                    if (bound.Pod.Name != pod.Name) cluster.TryBind(n, bound.Pod, bound.Gpus);
                }
            }
        }
        catch (KubernetesMappingException e)
        {
            error = e.Message;
            return false;
        }
        // Remember the spec only when we may be asked to bind it, and keep the memory bounded.
        if (binder is not null)
        {
            if (_recentPods.Count > 10_000) _recentPods.Clear();
            _recentPods[pod.Name] = pod;
        }
        return true;
    }

    private IEnumerable<NodeSpec> CandidateNodes(ExtenderArgs args)
    {
        if (args.Nodes?.Items is { } items)
        {
            foreach (var node in items)
            {
                var spec = KubernetesMapping.ToNodeSpec(node);
                source.ObserveNode(spec);
                yield return spec;
            }
            yield break;
        }
        foreach (var name in args.NodeNames!)
        {
            if (source.FindNode(name) is { } spec) yield return spec;
        }
    }

    private static IEnumerable<string> MissingNodes(ExtenderArgs args, ClusterState cluster) =>
        args.Nodes?.Items is not null ? [] : args.NodeNames!.Where(n => cluster.IndexOf(n) < 0);
}
