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
/// fitsRequest, the pod count applies to every pod, even one that requests nothing, and every shortfall is a reason
/// ("We will keep all failure reasons."): a node short of pods, cpu and memory is rejected for all three, joined as
/// kube's Status.Message joins them, and FitError counts each (<see cref="FitError.Reasons"/>).
/// </summary>
public sealed class NodeResourcesFitFilter : IPassFilterPlugin
{
    public const string GpuDeviceReason = "node(s) had no GPU device with enough free share";
    public const string TooManyPodsReason = "Too many pods";

    /// <summary>The shortfall lanes fitsRequest checks: the dimensions and the pod room (not the devices, ours alone).</summary>
    private const uint KubeLanes = (1u << ResourceNames.Count) - 1 | 1u << ClusterState.PodRoomLane;

    /// <summary>fitsRequest's order: pods, cpu, memory, ephemeral-storage, then the extended resources.</summary>
    private static readonly int[] LaneOrder =
        [ClusterState.PodRoomLane, (int)ResourceKind.Cpu, (int)ResourceKind.Memory, (int)ResourceKind.EphemeralStorage,
         (int)ResourceKind.Gpu, (int)ResourceKind.DiskIo, (int)ResourceKind.Network];

    /// <summary>
    /// Filter's reason for each set of short kube lanes (index: the lanes' bits, pod room as bit
    /// <see cref="ClusterState.PodRoomLane"/>), made once so the hot path allocates nothing; the last entry is
    /// <see cref="GpuDeviceReason"/>, index 0 (no shortfall) is never given.
    /// </summary>
    private static readonly string[] Rejections = BuildRejections();

    private static readonly int GpuDeviceIndex = Rejections.Length - 1;

    private static string[] BuildRejections()
    {
        var rejections = new string[(1 << (ClusterState.PodRoomLane + 1)) + 1];
        rejections[0] = "";
        for (var lanes = 1; lanes < rejections.Length - 1; lanes++)
        {
            var reasons = LaneOrder.Where(lane => (lanes & 1 << lane) != 0)
                .Select(lane => lane == ClusterState.PodRoomLane ? TooManyPodsReason : $"Insufficient {ResourceNames.NameOf((ResourceKind)lane)}")
                .ToList();
            rejections[lanes] = FitError.Joined(reasons);
        }
        rejections[^1] = GpuDeviceReason;
        return rejections;
    }

    public string Name => "NodeResourcesFit";

    public string? Filter(SchedulingContext context, int node)
    {
        var cluster = context.Cluster;
        var shortfalls = cluster.HasPodRoom(node) ? 0u : 1u << ClusterState.PodRoomLane;
        var capacity = cluster.Capacity;
        var allocated = cluster.Allocated;
        // Only the dimensions the pod requests.
        for (var mask = context.RequestedDimensionMask; mask != 0; mask &= mask - 1)
        {
            var d = BitOperations.TrailingZeroCount(mask);
            if (context.RequestOf(d) > capacity[d][node] - allocated[d][node]) shortfalls |= 1u << d;
        }
        if (shortfalls != 0) return Rejections[shortfalls];
        return cluster.FitsGpus(node, context.Gpu) ? null : GpuDeviceReason;
    }

    /// <summary>
    /// fit.go (v1.34 on): a node whose allocatable is below the pod's request of a resource it is short of rejects it
    /// UnschedulableAndUnresolvable (InsufficientResource.Unresolvable), as no eviction makes room there; preemption
    /// passes it over. The pod count and the devices' free shares are resolvable.
    /// </summary>
    public bool IsUnresolvable(SchedulingContext context, int node, string reason)
    {
        var capacity = context.Cluster.Capacity;
        for (var mask = context.RequestedDimensionMask; mask != 0; mask &= mask - 1)
        {
            var d = BitOperations.TrailingZeroCount(mask);
            if (context.RequestOf(d) > capacity[d][node]) return true;
        }
        return false;
    }

    public IReadOnlyList<string> RejectionReasons => Rejections;

    /// <summary>
    /// Filter's verdicts from the cluster's fit rows (ClusterState.FitSummary.cs): every short kube lane of a node's row
    /// (one vector compare), else devices.
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

    /// <summary>Filter's reason for a node's shortfall lanes, as an index into <see cref="Rejections"/>: the short kube lanes, else devices.</summary>
    private static int RejectionIndex(uint shortfalls) =>
        (shortfalls & KubeLanes) is var lanes and not 0 ? (int)lanes : GpuDeviceIndex;

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
