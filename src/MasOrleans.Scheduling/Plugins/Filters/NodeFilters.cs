using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>kube-scheduler's NodeUnschedulable: cordoned nodes take no pods (the toleration for node.kubernetes.io/unschedulable aside).</summary>
public sealed class NodeUnschedulableFilter : IFilterPlugin
{
    public const string Reason = "node(s) were unschedulable";
    private static readonly Taint UnschedulableTaint = new("node.kubernetes.io/unschedulable", null, TaintEffects.NoSchedule);

    public string Name => "NodeUnschedulable";

    public string? Filter(SchedulingContext context, int node)
    {
        if (!context.Cluster.Unschedulable[node]) return null;
        var tolerations = context.Pod.Tolerations;
        return tolerations is not null && tolerations.Any(t => t.Tolerates(UnschedulableTaint)) ? null : Reason;
    }
}

/// <summary>Our own: a node whose telemetry went silent (NotReady) takes no new pods.</summary>
public sealed class NodeReadyFilter : IFilterPlugin
{
    public const string Reason = "node(s) were not ready";
    public string Name => "NodeReady";
    public string? Filter(SchedulingContext context, int node) => context.Cluster.Ready[node] ? null : Reason;
}

/// <summary>kube-scheduler's NodeName: a pod that names a node fits only there.</summary>
public sealed class NodeNameFilter : IFilterPlugin
{
    public const string Reason = "node(s) didn't match the requested node name";
    public string Name => "NodeName";

    public string? Filter(SchedulingContext context, int node) =>
        context.Pod.NodeName is { Length: > 0 } wanted && wanted != context.Cluster.NameOf(node) ? Reason : null;
}

/// <summary>kube-scheduler's TaintToleration filter: NoSchedule and NoExecute taints need a toleration.</summary>
public sealed class TaintTolerationFilter : IFilterPlugin
{
    public const string Reason = "node(s) had untolerated taint";
    public string Name => "TaintToleration";

    public string? Filter(SchedulingContext context, int node)
    {
        var taints = context.Cluster.Spec(node).Taints;
        if (taints.Count == 0) return null;
        var tolerations = context.Pod.Tolerations;
        foreach (var taint in taints)
        {
            if (taint.Effect == TaintEffects.PreferNoSchedule) continue;
            if (tolerations is null || !tolerations.Any(t => t.Tolerates(taint))) return Reason;
        }
        return null;
    }
}

/// <summary>kube-scheduler's NodeAffinity filter: spec.nodeSelector AND required node affinity.</summary>
public sealed class NodeAffinityFilter : IFilterPlugin
{
    public const string Reason = "node(s) didn't match Pod's node affinity/selector";
    public string Name => "NodeAffinity";

    public string? Filter(SchedulingContext context, int node)
    {
        var pod = context.Pod;
        var required = pod.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution;
        if (pod.NodeSelector is null && required is null) return null;
        var labels = context.Cluster.Spec(node).Labels;
        if (pod.NodeSelector is not null)
        {
            foreach (var (k, v) in pod.NodeSelector)
                if (!labels.TryGetValue(k, out var actual) || actual != v) return Reason;
        }
        return required is null || required.Matches(labels) ? null : Reason;
    }
}
