using System.Numerics;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>
/// kube-scheduler's NodeResourcesFit filter over every dimension, plus per-device GPU fit:
/// a 300m GPU request needs ONE device with 300 milli free, not 300 milli spread over several. As fit.go's
/// fitsRequest, the pod count comes first and applies to every pod, even one that requests nothing.
/// </summary>
public sealed class NodeResourcesFitFilter : IBatchFilterPlugin
{
    private static readonly string[] InsufficientReasons =
        ResourceNames.All.Select(k => $"Insufficient {ResourceNames.NameOf(k)}").ToArray();

    public const string GpuDeviceReason = "node(s) had no GPU device with enough free share";
    public const string TooManyPodsReason = "Too many pods";

    public string Name => "NodeResourcesFit";

    public string? Filter(SchedulingContext context, int node)
    {
        var cluster = context.Cluster;
        if (!cluster.HasPodRoom(node)) return TooManyPodsReason;
        var capacity = cluster.Capacity;
        var allocated = cluster.Allocated;
        // Only the dimensions the pod requests, in ascending order, so the first failure reported is unchanged.
        for (var mask = context.RequestedDimensionMask; mask != 0; mask &= mask - 1)
        {
            var d = BitOperations.TrailingZeroCount(mask);
            if (context.RequestOf(d) > capacity[d][node] - allocated[d][node]) return InsufficientReasons[d];
        }
        return cluster.FitsGpus(node, context.Gpu) ? null : GpuDeviceReason;
    }

    public void FilterBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<string?> reasons)
    {
        var cluster = context.Cluster;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (reasons[i] is null && !cluster.HasPodRoom(nodes[i])) reasons[i] = TooManyPodsReason;
        }
        // Dimension by dimension in ascending order: a node keeps the first dimension it fails, as in Filter.
        for (var mask = context.RequestedDimensionMask; mask != 0; mask &= mask - 1)
        {
            var d = BitOperations.TrailingZeroCount(mask);
            var want = context.RequestOf(d);
            var capacity = cluster.Capacity[d];
            var allocated = cluster.Allocated[d];
            var reason = InsufficientReasons[d];
            for (var i = 0; i < nodes.Length; i++)
            {
                var node = nodes[i];
                if (reasons[i] is null && want > capacity[node] - allocated[node]) reasons[i] = reason;
            }
        }
        var gpu = context.Gpu;
        if (gpu.IsNone) return;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (reasons[i] is null && !cluster.FitsGpus(nodes[i], gpu)) reasons[i] = GpuDeviceReason;
        }
    }
}
