using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// kube-scheduler's NodeResourcesBalancedAllocation. The default is the v1.35 formula,
/// (1 - std of the requested fractions) * 100; <c>scoreChange</c> selects v1.36's (PR #135573),
/// which scores the change in balance the pod causes: 50 + (50 + withPod - withoutPod) / 2.
/// </summary>
public sealed class BalancedAllocationScore(IReadOnlyList<ResourceWeight>? resources = null, bool scoreChange = false) : IScorePlugin
{
    private readonly ResourceKind[] _kinds = ResourceAllocation.Kinds(resources ?? NodeResourcesFitScore.DefaultResources);

    public string Name => "NodeResourcesBalancedAllocation";

    public long Score(SchedulingContext context, int node)
    {
        // Best-effort pods (no requests at all) skip this plugin.
        if (context.Requests.IsZero) return 0;
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
        var std = 0.0;
        if (count == 2)
        {
            std = Math.Abs((fractions[0] - fractions[1]) / 2);
        }
        else if (count > 2)
        {
            var mean = total / count;
            var sum = 0.0;
            for (var i = 0; i < count; i++) sum += (fractions[i] - mean) * (fractions[i] - mean);
            std = Math.Sqrt(sum / count);
        }
        return (long)((1 - std) * NodeScore.MaxNodeScore);
    }
}
