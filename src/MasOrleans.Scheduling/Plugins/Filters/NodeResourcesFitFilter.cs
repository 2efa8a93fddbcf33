using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>
/// kube-scheduler's NodeResourcesFit filter over every dimension, plus per-device GPU fit:
/// a 300m GPU request needs ONE device with 300 milli free, not 300 milli spread over several. As fit.go's
/// fitsRequest, the pod count comes first and applies to every pod, even one that requests nothing.
/// </summary>
public sealed class NodeResourcesFitFilter : IPassFilterPlugin
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
    /// Filter's verdicts from the cluster's flat fit summary (ClusterState.FitSummary.cs), each node's reason in Filter's
    /// order: pods, then the first requested dimension short (lowest set bit of the vector compare), then devices.
    /// </summary>
    public void FilterBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<string?> reasons)
    {
        var cluster = context.Cluster;
        var gpu = context.Gpu;
        var perNodeGpuCheck = !DeviceSummary(cluster, gpu, out var devices, out var needed);
        var (wantLow, wantHigh) = Wanted(context);
        var podRoom = cluster.PodRoom;
        var free = cluster.FreeVectors;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (reasons[i] is not null) continue;
            var node = nodes[i];
            var shortfalls = Shortfalls(free, node, wantLow, wantHigh);
            string? reason = podRoom[node] <= 0 ? TooManyPodsReason
                : shortfalls != 0 ? InsufficientReasons[BitOperations.TrailingZeroCount(shortfalls)]
                : (perNodeGpuCheck ? !cluster.FitsGpus(node, gpu) : devices[node] < needed) ? GpuDeviceReason
                : null;
            if (reason is not null) reasons[i] = reason;
        }
    }

    /// <summary>
    /// Pass or fail only, from the same summary, with no branch per node (the pod count, two vector compares of the
    /// free vector and one device value, combined without short-circuit).
    /// </summary>
    public void PassBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<byte> pass)
    {
        var cluster = context.Cluster;
        if (!DeviceSummary(cluster, context.Gpu, out var devices, out var needed))
        {
            // Several shares at once (no pod asks that): the reference, node by node.
            for (var i = 0; i < nodes.Length; i++) if (pass[i] != 0 && Filter(context, nodes[i]) is not null) pass[i] = 0;
            return;
        }
        var (wantLow, wantHigh) = Wanted(context);
        var podRoom = cluster.PodRoom;
        var free = cluster.FreeVectors;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            var fits = (podRoom[node] > 0) & (Shortfalls(free, node, wantLow, wantHigh) == 0) & (devices[node] >= needed);
            pass[i] &= fits ? (byte)1 : (byte)0;
        }
    }

    /// <summary>
    /// The request as two 256-bit halves of a <see cref="ClusterState.FreeVectorStride"/> vector; the dimensions the pod
    /// does not request (and the padding) are long.MinValue, so no node falls short there, as Filter skips them.
    /// </summary>
    private static (Vector256<long> Low, Vector256<long> High) Wanted(SchedulingContext context)
    {
        Span<long> want = stackalloc long[ClusterState.FreeVectorStride];
        want.Fill(long.MinValue);
        for (var mask = context.RequestedDimensionMask; mask != 0; mask &= mask - 1)
        {
            var d = BitOperations.TrailingZeroCount(mask);
            want[d] = context.RequestOf(d);
        }
        return (Vector256.Create<long>(want), Vector256.Create<long>(want[4..]));
    }

    /// <summary>Bit d set when the node has less free in dimension d than the pod wants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Shortfalls(ReadOnlySpan<long> free, int node, Vector256<long> wantLow, Vector256<long> wantHigh)
    {
        var row = free.Slice(node * ClusterState.FreeVectorStride, ClusterState.FreeVectorStride);
        return Vector256.LessThan(Vector256.Create<long>(row), wantLow).ExtractMostSignificantBits()
            | Vector256.LessThan(Vector256.Create<long>(row[4..]), wantHigh).ExtractMostSignificantBits() << 4;
    }

    /// <summary>
    /// The device check as one per-node value against one threshold (FitsGpus' rule): a share needs one device with
    /// that much free (the node's largest free share), whole GPUs that many wholly free devices. No GPU: a threshold
    /// every value passes. False for several shares at once, which only the devices themselves answer.
    /// </summary>
    private static bool DeviceSummary(ClusterState cluster, GpuRequest gpu, out ReadOnlySpan<int> devices, out int needed)
    {
        devices = cluster.GpuMaxFree;
        needed = int.MinValue;
        if (gpu.IsNone) return true;
        if (gpu.Count == 1)
        {
            needed = gpu.MilliPerGpu;
            return true;
        }
        devices = cluster.GpuFullyFree;
        needed = gpu.Count;
        return gpu.Count > 1 && gpu.MilliPerGpu == ClusterState.MilliPerGpu;
    }
}
