using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>kube-scheduler's NodeUnschedulable: cordoned nodes take no pods (the toleration for node.kubernetes.io/unschedulable aside).</summary>
public sealed class NodeUnschedulableFilter : IFilterPlugin
{
    public const string Reason = "node(s) were unschedulable";
    private static readonly Taint UnschedulableTaint = new("node.kubernetes.io/unschedulable", null, TaintEffects.NoSchedule);

    public string Name => "NodeUnschedulable";

    public void PreFilter(SchedulingContext context)
    {
        if (!context.Cluster.AnyUnschedulable) context.Skip(this);
    }

    public string? Filter(SchedulingContext context, int node) => Admits(context.Pod, context.Cluster.Unschedulable[node]) ? null : Reason;

    /// <summary>node_unschedulable.go: UnschedulableAndUnresolvable.</summary>
    public bool IsUnresolvable(string reason) => true;

    /// <summary>The rule itself, also for the node grain's own check when it reserves (a cycle's view can predate a cordon).</summary>
    public static bool Admits(PodSpec pod, bool unschedulable) => !unschedulable || Taints.Tolerated(pod.Tolerations, UnschedulableTaint);
}

/// <summary>Our own: a node whose telemetry went silent (NotReady) takes no new pods.</summary>
public sealed class NodeReadyFilter : IFilterPlugin
{
    public const string Reason = "node(s) were not ready";
    public string Name => "NodeReady";

    public void PreFilter(SchedulingContext context)
    {
        if (context.Cluster.AllReady) context.Skip(this);
    }

    public string? Filter(SchedulingContext context, int node) => context.Cluster.Ready[node] ? null : Reason;

    /// <summary>kube keeps pods off such a node by its not-ready taint, which TaintToleration finds unresolvable.</summary>
    public bool IsUnresolvable(string reason) => true;
}

/// <summary>kube-scheduler's NodeName: a pod that names a node fits only there.</summary>
public sealed class NodeNameFilter : IFilterPlugin
{
    public const string Reason = "node(s) didn't match the requested node name";
    public string Name => "NodeName";

    public void PreFilter(SchedulingContext context)
    {
        if (context.Pod.NodeName is not { Length: > 0 }) context.Skip(this);
    }

    public string? Filter(SchedulingContext context, int node) =>
        context.Pod.NodeName is { Length: > 0 } wanted && wanted != context.Cluster.NameOf(node) ? Reason : null;

    /// <summary>node_name.go: UnschedulableAndUnresolvable.</summary>
    public bool IsUnresolvable(string reason) => true;
}

/// <summary>kube-scheduler's TaintToleration filter: NoSchedule and NoExecute taints need a toleration.</summary>
public sealed class TaintTolerationFilter : IFilterPlugin
{
    public string Name => "TaintToleration";

    /// <summary>
    /// kube's reason names the node's first untolerated taint: fmt.Sprintf("node(s) had untolerated taint {%s: %s}",
    /// taint.Key, taint.Value) (v1.35 pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go, Filter). Made
    /// once per taint: a node's taints are few, and the filter runs for every node of every cycle.
    /// </summary>
    public static string ReasonFor(Taint taint) => Reasons.GetOrAdd((taint.Key, taint.Value ?? ""), t => $"node(s) had untolerated taint {{{t.Key}: {t.Value}}}");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Key, string Value), string> Reasons = new();

    public void PreFilter(SchedulingContext context)
    {
        if (context.Cluster.NodesWithHardTaints == 0) context.Skip(this);
    }

    public string? Filter(SchedulingContext context, int node)
    {
        // PreferNoSchedule-only and untainted nodes pass without walking their taints.
        if (!context.Cluster.HasHardTaints(node)) return null;
        var taints = context.Cluster.Spec(node).Taints;
        if (taints.Count == 0) return null;
        var tolerations = context.Pod.Tolerations;
        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i];
            if (taint.Effect == TaintEffects.PreferNoSchedule) continue;
            if (!Taints.Tolerated(tolerations, taint)) return ReasonFor(taint);
        }
        return null;
    }

    /// <summary>taint_toleration.go: UnschedulableAndUnresolvable.</summary>
    public bool IsUnresolvable(string reason) => true;
}

/// <summary>
/// kube-scheduler's NodeAffinity filter: spec.nodeSelector AND required node affinity. Its PreFilter
/// (pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go) narrows the search to the nodes that every
/// term names through matchFields metadata.name In, when each term names some.
/// </summary>
public sealed class NodeAffinityFilter : IFilterPlugin
{
    public const string Reason = "node(s) didn't match Pod's node affinity/selector";
    public const string ConflictReason = "pod affinity terms conflict";
    public string Name => "NodeAffinity";

    public void PreFilter(SchedulingContext context)
    {
        var pod = context.Pod;
        var terms = pod.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (pod.NodeSelector is null && terms is null) { context.Skip(this); return; }
        if (terms is not { Count: > 0 }) return;
        // Terms are ORed (union of their names); a term's name requirements are ANDed (intersection).
        // A term that names no node leaves every node eligible.
        HashSet<string>? names = null;
        foreach (var term in terms)
        {
            HashSet<string>? termNames = null;
            foreach (var r in term.MatchFields ?? [])
            {
                if (r.Key != NodeSelectorTerm.NodeNameField || r.Operator != SelectorOperators.In) continue;
                var values = new HashSet<string>(r.Values ?? [], StringComparer.Ordinal);
                if (termNames is null) termNames = values;
                else termNames.IntersectWith(values);
            }
            if (termNames is null) return;
            (names ??= new HashSet<string>(StringComparer.Ordinal)).UnionWith(termNames);
        }
        if (names!.Count == 0) context.Reject(ConflictReason);
        else context.RestrictNodes(Name, names);
    }

    public string? Filter(SchedulingContext context, int node)
    {
        var pod = context.Pod;
        if (pod.NodeSelector is null && pod.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is null) return null;
        return Matching.MatchesRequiredNodeAffinity(pod, context.Cluster.Spec(node)) ? null : Reason;
    }

    /// <summary>node_affinity.go: UnschedulableAndUnresolvable.</summary>
    public bool IsUnresolvable(string reason) => true;
}
