using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
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

    private const uint DimensionLanes = (1u << ResourceNames.Count) - 1;

    /// <summary>Filter's reasons in the order it checks: pods, each dimension, devices.</summary>
    private static readonly string[] Rejections = [TooManyPodsReason, .. InsufficientReasons, GpuDeviceReason];

    public IReadOnlyList<string> RejectionReasons => Rejections;

    /// <summary>
    /// Filter's verdicts from the cluster's fit rows (ClusterState.FitSummary.cs), each node's reason in Filter's order:
    /// pods, then the first requested dimension short (lowest set bit of the vector compare), then devices.
    /// </summary>
    public void FilterBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<string?> reasons)
    {
        var cluster = context.Cluster;
        if (!Demand(context, out var low, out var high))
        {
            for (var i = 0; i < nodes.Length; i++) reasons[i] ??= Filter(context, nodes[i]);
            return;
        }
        var rows = cluster.FitRows;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (reasons[i] is not null) continue;
            var shortfalls = Shortfalls(rows, nodes[i], low, high);
            if (shortfalls != 0) reasons[i] = Rejections[RejectionIndex(shortfalls)];
        }
    }

    public void RejectBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<byte> pass, Span<int> counts)
    {
        if (!Demand(context, out var low, out var high))
        {
            for (var i = 0; i < nodes.Length; i++)
            {
                if (pass[i] == 0 || Filter(context, nodes[i]) is not { } reason) continue;
                pass[i] = 0;
                counts[Array.IndexOf(Rejections, reason)]++;
            }
            return;
        }
        var rows = context.Cluster.FitRows;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (pass[i] == 0) continue;
            var shortfalls = Shortfalls(rows, nodes[i], low, high);
            if (shortfalls == 0) continue;
            pass[i] = 0;
            counts[RejectionIndex(shortfalls)]++;
        }
    }

    /// <summary>Filter's reason for a node's shortfall lanes, as an index into <see cref="Rejections"/>: pods first, then the lowest dimension, then devices.</summary>
    private static int RejectionIndex(uint shortfalls) =>
        (shortfalls & (1u << ClusterState.PodRoomLane)) != 0 ? 0
        : (shortfalls & DimensionLanes) != 0 ? 1 + BitOperations.TrailingZeroCount(shortfalls)
        : 1 + ResourceNames.Count;

    /// <summary>Pass or fail only, from the same rows, with no branch per node: two vector compares per node.</summary>
    public void PassBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<byte> pass)
    {
        if (!Demand(context, out var low, out var high))
        {
            for (var i = 0; i < nodes.Length; i++) if (pass[i] != 0 && Filter(context, nodes[i]) is not null) pass[i] = 0;
            return;
        }
        var rows = context.Cluster.FitRows;
        for (var i = 0; i < nodes.Length; i++)
            pass[i] &= Shortfalls(rows, nodes[i], low, high) == 0 ? (byte)1 : (byte)0;
    }

    /// <summary>The pod's demand row (ClusterState.DemandRow) as two 256-bit halves; false for several shares at once.</summary>
    private static bool Demand(SchedulingContext context, out Vector256<long> low, out Vector256<long> high)
    {
        Span<long> demand = stackalloc long[ClusterState.FitRowStride];
        var summarized = ClusterState.DemandRow(context.Requests, context.Gpu, demand);
        low = Vector256.Create<long>(demand);
        high = Vector256.Create<long>(demand[4..]);
        return summarized;
    }

    /// <summary>Bit k set when lane k of the node's fit row is below the demand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Shortfalls(ReadOnlySpan<long> rows, int node, Vector256<long> low, Vector256<long> high)
    {
        var row = rows.Slice(node * ClusterState.FitRowStride, ClusterState.FitRowStride);
        return Vector256.LessThan(Vector256.Create<long>(row), low).ExtractMostSignificantBits()
            | Vector256.LessThan(Vector256.Create<long>(row[4..]), high).ExtractMostSignificantBits() << 4;
    }
}
