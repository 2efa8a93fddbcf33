using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>
/// A per-node cap on instances of one application (DLRM's max_instance_per_node): a pod labelled
/// <see cref="LimitLabel"/> = N and <see cref="AppLabel"/> = A cannot land on a node already running N pods
/// labelled A. kube's PodTopologySpread bounds the skew between nodes, not a count per node, so the cap
/// needs its own filter. Pods without the limit label skip it.
/// </summary>
public sealed class MaxInstancesPerNodeFilter : IFilterPlugin
{
    public const string AppLabel = "mas.io/app";
    public const string LimitLabel = "mas.io/max-per-node";
    public const string Reason = "node(s) already run the pod's app max-per-node times";

    public string Name => "MaxInstancesPerNode";

    private sealed record Limit(string App, int Max);

    public void PreFilter(SchedulingContext context)
    {
        var labels = context.Pod.Labels;
        if (labels.TryGetValue(LimitLabel, out var text) && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var max)
            && max > 0 && labels.TryGetValue(AppLabel, out var app))
            context.SetState(this, new Limit(app, max));
        else
            context.Skip(this);
    }

    public string? Filter(SchedulingContext context, int node)
    {
        if (context.StateOf<Limit>(this) is not { } limit) return null;
        var running = 0;
        foreach (var bound in context.Cluster.Pods[node])
        {
            if (bound.Pod.Labels.TryGetValue(AppLabel, out var app) && app == limit.App && ++running >= limit.Max) return Reason;
        }
        return null;
    }
}
