using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>
/// What NodeResourcesFit's batch filter reads for one node, kept in one 64-byte row per node as binds and unbinds
/// change it, so a node's whole fit check is two vector compares of its row against the pod's demand row
/// (<see cref="DemandRow"/>) instead of reading a pod list, a spec and a device list. The per-node checks
/// (<see cref="HasPodRoom"/>, <see cref="FitsGpus"/>, Capacity − Allocated) stay the reference; FitSummaryEquivalenceTests
/// hold the two together.
/// </summary>
public sealed partial class ClusterState
{
    /// <summary>Longs per node in <see cref="FitRows"/>: the dimensions, then <see cref="PodRoomLane"/> and <see cref="DeviceLane"/>.</summary>
    public const int FitRowStride = 8;

    /// <summary>How many more pods the node's `pods` capacity takes (<see cref="HasPodRoom"/> is room ≥ 1).</summary>
    public const int PodRoomLane = ResourceNames.Count;

    /// <summary>
    /// The node's devices as one number: <see cref="MilliPerGpu"/> × its wholly free devices when any is wholly free, else
    /// the most milli free on one device (int.MinValue without devices). A share of m milli (0 &lt; m ≤ 1000) fits when it
    /// is ≥ m, since a wholly free device has 1000 free; c whole GPUs fit when it is ≥ 1000c, since a node without a wholly
    /// free device has less than 1000 there.
    /// </summary>
    public const int DeviceLane = ResourceNames.Count + 1;

    // Fails to compile (constant overflow) if the dimensions and the two lanes outgrow the row.
    private const uint SpareLanes = FitRowStride - (ResourceNames.Count + 2);

    private long[] _fitRows = new long[16 * FitRowStride];

    /// <summary>
    /// One row of <see cref="FitRowStride"/> longs per node (node n's at n × stride): Capacity − Allocated per dimension,
    /// then the pod room and the device number.
    /// </summary>
    public ReadOnlySpan<long> FitRows => _fitRows.AsSpan(0, NodeCount * FitRowStride);

    /// <summary>
    /// What a pod needs of a node's <see cref="FitRows"/> row, lane by lane: a node fits (as NodeResourcesFit's Filter) when
    /// every lane of its row is ≥ this. Dimensions the pod does not request are long.MinValue (Filter skips them); one pod
    /// of room; the device number per <see cref="DeviceLane"/>. False for several shares at once, which only the devices answer.
    /// </summary>
    public static bool DemandRow(ResourceVector requests, GpuRequest gpu, Span<long> demand)
    {
        demand[..FitRowStride].Fill(long.MinValue);
        for (var d = 0; d < ResourceNames.Count; d++)
            if (requests[d] != 0) demand[d] = requests[d];
        demand[PodRoomLane] = 1;
        if (gpu.IsNone) return true;
        if (gpu.Count == 1 && gpu.MilliPerGpu is > 0 and <= MilliPerGpu) demand[DeviceLane] = gpu.MilliPerGpu;
        else if (gpu.Count > 1 && gpu.MilliPerGpu == MilliPerGpu) demand[DeviceLane] = gpu.TotalMilli;
        else return false;
        return true;
    }

    /// <summary>Same answer as <see cref="FitsGpus"/>, from the node's device number (the devices themselves for several shares at once).</summary>
    public bool FitsGpusBySummary(int node, GpuRequest gpu)
    {
        Span<long> demand = stackalloc long[FitRowStride];
        return DemandRow(default, gpu, demand) ? _fitRows[node * FitRowStride + DeviceLane] >= demand[DeviceLane] : FitsGpus(node, gpu);
    }

    /// <summary>Recomputes node's row from the reference state; every change to its pods, resources or devices calls it.</summary>
    private void RefreshFitRow(int node)
    {
        var row = _fitRows.AsSpan(node * FitRowStride, FitRowStride);
        for (var d = 0; d < ResourceNames.Count; d++) row[d] = Capacity[d][node] - Allocated[d][node];
        row[PodRoomLane] = _specs[node].MaxPods - Pods[node].Count;
        var maxFree = int.MinValue;
        var whollyFree = 0;
        foreach (var free in GpuFreeOf(node))
        {
            if (free > maxFree) maxFree = free;
            if (free >= MilliPerGpu) whollyFree++;
        }
        row[DeviceLane] = whollyFree > 0 ? (long)whollyFree * MilliPerGpu : maxFree;
    }

    private void GrowFitRows(int size) => Array.Resize(ref _fitRows, size * FitRowStride);
}
