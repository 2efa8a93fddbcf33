using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Kube;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>
/// kube-scheduler's PodTopologySpread filter for DoNotSchedule constraints: a node passes when
/// matching pods in its domain + 1 (if the pod matches its own selector) - the global minimum &lt;= maxSkew,
/// the minimum being 0 while fewer than minDomains domains exist. Nodes missing a topology key fail.
/// </summary>
public sealed class PodTopologySpreadFilter : IFilterPlugin
{
    public const string Reason = "node(s) didn't match pod topology spread constraints";
    public const string MissingLabelReason = Reason + " (missing required label)";

    public string Name => "PodTopologySpread";

    private sealed class State(TopologySpreadCounts counts, int[] minMatch, int[] selfMatch)
    {
        public TopologySpreadCounts Counts { get; } = counts;
        public int[] MinMatch { get; } = minMatch;
        public int[] SelfMatch { get; } = selfMatch;
    }

    public void PreFilter(SchedulingContext context)
    {
        var constraints = TopologySpreadCounts.Select(context.Pod, TopologySpreadCounts.DoNotSchedule);
        if (constraints is null) { context.Skip(this); return; }
        var counts = new TopologySpreadCounts(context.Cluster, context.Pod, constraints);
        var minMatch = new int[constraints.Count];
        var selfMatch = new int[constraints.Count];
        for (var i = 0; i < constraints.Count; i++)
        {
            var domains = counts.Domains[i];
            var min = int.MaxValue;
            foreach (var count in domains.Values) if (count < min) min = count;
            if (domains.Count < (constraints[i].MinDomains ?? 1)) min = 0;
            minMatch[i] = min;
            selfMatch[i] = Matching.Selects(constraints[i].LabelSelector, context.Pod.Labels) ? 1 : 0;
        }
        context.SetState(this, new State(counts, minMatch, selfMatch));
    }

    public string? Filter(SchedulingContext context, int node)
    {
        var state = context.StateOf<State>(this);
        if (state is null) return null;
        var constraints = state.Counts.Constraints;
        for (var i = 0; i < constraints.Count; i++)
        {
            if (!Matching.TryTopologyValue(context.Cluster, node, constraints[i].TopologyKey, out var value)) return MissingLabelReason;
            // long arithmetic: the minimum is int.MaxValue when no domain is eligible.
            var skew = (long)state.Counts.Domains[i].GetValueOrDefault(value) + state.SelfMatch[i] - state.MinMatch[i];
            if (skew > constraints[i].MaxSkew) return Reason;
        }
        return null;
    }

    /// <summary>podtopologyspread/filtering.go: a node without the topology label is UnschedulableAndUnresolvable; skew is not.</summary>
    public bool IsUnresolvable(string reason) => reason == MissingLabelReason;
}
