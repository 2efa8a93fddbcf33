using System.Numerics;
using System.Runtime.CompilerServices;
using MasOrleans.Scheduling.Cluster;
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

    /// <summary>
    /// Filter's verdicts from the cluster's flat fit summary (ClusterState.FitSummary.cs): one pass over the nodes, each
    /// checked in Filter's order (pods, then the requested dimensions ascending, then devices) from a few adjacent values.
    /// </summary>
    public void FilterBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<string?> reasons)
    {
        var cluster = context.Cluster;
        var podRoom = cluster.PodRoom;
        var free = cluster.FreeVectors;
        var mask = context.RequestedDimensionMask;
        Span<long> want = stackalloc long[ResourceNames.Count];
        for (var d = 0; d < ResourceNames.Count; d++) want[d] = context.RequestOf(d);
        // A share needs one device with that much free, whole GPUs that many wholly free devices: one summary value
        // per node against one threshold. Other requests (several shares at once) ask the cluster per node.
        var gpu = context.Gpu;
        ReadOnlySpan<int> devices = default;
        var needed = 0;
        if (gpu.Count == 1)
        {
            devices = cluster.GpuMaxFree;
            needed = gpu.MilliPerGpu;
        }
        else if (gpu.Count > 1 && gpu.MilliPerGpu == ClusterState.MilliPerGpu)
        {
            devices = cluster.GpuFullyFree;
            needed = gpu.Count;
        }
        var perNodeGpuCheck = !gpu.IsNone && devices.IsEmpty;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (reasons[i] is not null) continue;
            var node = nodes[i];
            string? reason;
            if (podRoom[node] <= 0) reason = TooManyPodsReason;
            else if ((reason = FirstShortfall(free.Slice(node * ResourceNames.Count, ResourceNames.Count), want, mask)) is null)
            {
                if (perNodeGpuCheck ? !cluster.FitsGpus(node, gpu) : !devices.IsEmpty && devices[node] < needed) reason = GpuDeviceReason;
                else continue;
            }
            reasons[i] = reason;
        }
    }

    /// <summary>The first requested dimension (ascending) the node's free vector cannot cover, as Filter reports it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static string? FirstShortfall(ReadOnlySpan<long> free, ReadOnlySpan<long> want, int mask)
    {
        for (; mask != 0; mask &= mask - 1)
        {
            var d = BitOperations.TrailingZeroCount(mask);
            if (want[d] > free[d]) return InsufficientReasons[d];
        }
        return null;
    }
}
