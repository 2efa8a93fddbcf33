using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's NodeResourcesBalancedAllocation. The default is the v1.35 formula,
/// (1 - std of the requested fractions) * 100; <c>scoreChange</c> selects v1.36's (PR #135573),
/// which scores the change in balance the pod causes: 50 + (50 + withPod - withoutPod) / 2.
/// </summary>
public sealed class BalancedAllocationScore(IReadOnlyList<ResourceWeight>? resources = null, bool scoreChange = false) : IBatchScorePlugin
{
    private readonly ResourceKind[] _kinds = ResourceAllocation.Kinds(resources ?? NodeResourcesFitScore.DefaultResources);

    /// <summary>
    /// balanced_allocation.go PreScore: a pod requesting none of the scored resources (cpu and memory by default)
    /// skips the plugin (kubernetes issue 129138), so best-effort pods do not all pile onto one node.
    /// </summary>
    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        if (RequestsNone(context)) context.Skip(this);
    }

    private bool RequestsNone(SchedulingContext context)
    {
        foreach (var kind in _kinds)
            if (context.RequestOf((int)kind) != 0) return false;
        return true;
    }

    public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        if (RequestsNone(context)) { scores.Clear(); return; }
        var buffer = new ResourceColumnBuffer();
        Span<ResourceColumn> columns = _kinds.Length <= ResourceNames.Count ? buffer : new ResourceColumn[_kinds.Length];
        columns = columns[..ResourceAllocation.Columns(context, _kinds, default, nonZeroDefaults: false, columns)];
        if (columns.Length == 2 && !scoreChange)
        {
            BalanceTwo(columns[0], columns[1], nodes, scores);
            return;
        }
        Span<double> fractions = stackalloc double[columns.Length];
        for (var j = 0; j < nodes.Length; j++)
        {
            var node = nodes[j];
            // Same fractions in the same order as Score's, so the doubles (and the truncated score) are identical.
            var count = 0;
            var total = 0.0;
            foreach (ref readonly var column in columns)
            {
                var allocatable = column.Capacity[node];
                if (allocatable == 0) continue;
                var fraction = Math.Min(1, (double)(column.Used[node] + column.PodRequest) / allocatable);
                total += fraction;
                fractions[count++] = fraction;
            }
            var withPod = FromFractions(fractions[..count], total);
            if (!scoreChange) { scores[j] = withPod; continue; }
            count = 0;
            total = 0.0;
            foreach (ref readonly var column in columns)
            {
                var allocatable = column.Capacity[node];
                if (allocatable == 0) continue;
                var fraction = Math.Min(1, (double)column.Used[node] / allocatable);
                total += fraction;
                fractions[count++] = fraction;
            }
            scores[j] = 50 + (50 + withPod - FromFractions(fractions[..count], total)) / 2;
        }
    }

    public string Name => "NodeResourcesBalancedAllocation";

    public long Score(SchedulingContext context, int node)
    {
        // Score without PreScore (as Score's fallback in balanced_allocation.go): 0 for a pod requesting none of them.
        if (RequestsNone(context)) return 0;
        Span<long> requested = stackalloc long[_kinds.Length];
        Span<long> allocatable = stackalloc long[_kinds.Length];
        ResourceAllocation.Gather(context, node, _kinds, nonZeroDefaults: false, requested, allocatable);
        var withPod = BalanceScore(requested, allocatable);
        if (!scoreChange) return withPod;
        var requests = context.Requests;
        for (var i = 0; i < _kinds.Length; i++)
        {
            if (allocatable[i] != 0) requested[i] -= requests[(int)_kinds[i]];
        }
        var withoutPod = BalanceScore(requested, allocatable);
        return 50 + (50 + withPod - withoutPod) / 2;
    }

    /// <summary>kube's default (cpu and memory): FromFractions' arithmetic inlined for two resources, same double operations.</summary>
    private static void BalanceTwo(in ResourceColumn a, in ResourceColumn b, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        var (capA, usedA, reqA, _) = a;
        var (capB, usedB, reqB, _) = b;
        for (var j = 0; j < nodes.Length; j++)
        {
            var node = nodes[j];
            var allocA = capA[node];
            var allocB = capB[node];
            // With fewer than two resources on the node the deviation is 0 and the score 100.
            if (allocA == 0 || allocB == 0) { scores[j] = NodeScore.MaxNodeScore; continue; }
            var fractionA = Math.Min(1, (double)(usedA[node] + reqA) / allocA);
            var fractionB = Math.Min(1, (double)(usedB[node] + reqB) / allocB);
            var std = Math.Abs((fractionA - fractionB) / 2);
            scores[j] = (long)((1 - std) * NodeScore.MaxNodeScore);
        }
    }

    internal static long BalanceScore(ReadOnlySpan<long> requested, ReadOnlySpan<long> allocatable)
    {
        Span<double> fractions = stackalloc double[requested.Length];
        var count = 0;
        var total = 0.0;
        for (var i = 0; i < requested.Length; i++)
        {
            if (allocatable[i] == 0) continue;
            var fraction = (double)requested[i] / allocatable[i];
            if (fraction > 1) fraction = 1;
            total += fraction;
            fractions[count++] = fraction;
        }
        return FromFractions(fractions[..count], total);
    }

    /// <summary>(1 - standard deviation of the fractions) * 100, truncated; two resources use |f0 - f1| / 2 as v1.35 does.</summary>
    private static long FromFractions(ReadOnlySpan<double> fractions, double total)
    {
        var std = 0.0;
        if (fractions.Length == 2)
        {
            std = Math.Abs((fractions[0] - fractions[1]) / 2);
        }
        else if (fractions.Length > 2)
        {
            var mean = total / fractions.Length;
            var sum = 0.0;
            foreach (var f in fractions) sum += (f - mean) * (f - mean);
            std = Math.Sqrt(sum / fractions.Length);
        }
        return (long)((1 - std) * NodeScore.MaxNodeScore);
    }
}
