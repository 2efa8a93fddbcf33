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

    /// <summary>
    /// The one rule for a cap, shared by admission (<see cref="CheckLabels"/>) and the DLRM trace reader (its columns):
    /// a cap allows at least one instance and counts the instances of a named app, or the filter could not apply it as
    /// written. The problem, with <c>OnApp</c> saying whether the app (rather than the cap) is at fault, or null.
    /// </summary>
    public static (bool OnApp, string Problem)? CapProblem(long max, string? app) =>
        max < 1 ? (false, $"{max} allows no instance on any node")
        : max > int.MaxValue ? (false, $"{max} is above the largest cap, {int.MaxValue}")
        : string.IsNullOrEmpty(app) ? (true, $"no {AppLabel} with {LimitLabel} {max}: the cap is per app")
        : null;

    /// <summary>Why a pod's labels give a cap the filter could not apply, or null (no cap label, or a good one).</summary>
    public static string? CheckLabels(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null || !labels.TryGetValue(LimitLabel, out var text)) return null;
        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var max))
            return $"label {LimitLabel} '{text}' must be a whole number of instances per node, 1 or more (leave it out for no cap)";
        return CapProblem(max, labels.GetValueOrDefault(AppLabel)) is { } problem
            ? $"label {LimitLabel} '{text}': {problem.Problem}{(problem.OnApp ? "" : " (leave it out for no cap)")}"
            : null;
    }

    public void PreFilter(SchedulingContext context)
    {
        // Admission refuses a cap CheckLabels finds fault with, so a pod reaching here has a good one or none.
        var labels = context.Pod.Labels;
        if (CheckLabels(labels) is null && labels.TryGetValue(LimitLabel, out var text))
            context.SetState(this, new Limit(labels[AppLabel], int.Parse(text, System.Globalization.CultureInfo.InvariantCulture)));
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
