using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>
/// What NodeResourcesFit's batch filter reads for one node, kept in flat arrays as binds and unbinds change it, so a
/// node's fit check touches a few adjacent values instead of a pod list, a spec and a device list: its free vector
/// (node-major), its room for more pods, and a summary of its GPU devices. The per-node checks
/// (<see cref="HasPodRoom"/>, <see cref="FitsGpus"/>, Capacity − Allocated) stay the reference; ClusterFitSummaryTests
/// hold the two together.
/// </summary>
public sealed partial class ClusterState
{
    /// <summary>Longs per node in <see cref="FreeVectors"/>: the dimensions padded to a 64-byte line (two 256-bit vectors).</summary>
    public const int FreeVectorStride = 8;

    private long[] _freeVectors = new long[16 * FreeVectorStride];
    private int[] _podRoom = new int[16];
    private int[] _gpuMaxFree = new int[16];
    private int[] _gpuFullyFree = new int[16];

    /// <summary>
    /// Capacity − Allocated, node-major: node n's dimension d is at n * <see cref="FreeVectorStride"/> + d; the padding
    /// past <see cref="ResourceNames.Count"/> is zero.
    /// </summary>
    public ReadOnlySpan<long> FreeVectors => _freeVectors.AsSpan(0, NodeCount * FreeVectorStride);

    /// <summary>Per node, how many more pods its `pods` capacity takes (<see cref="HasPodRoom"/> is room &gt; 0).</summary>
    public ReadOnlySpan<int> PodRoom => _podRoom.AsSpan(0, NodeCount);

    /// <summary>Per node, the most milli free on any one of its devices (int.MinValue without devices).</summary>
    public ReadOnlySpan<int> GpuMaxFree => _gpuMaxFree.AsSpan(0, NodeCount);

    /// <summary>Per node, how many of its devices are wholly free.</summary>
    public ReadOnlySpan<int> GpuFullyFree => _gpuFullyFree.AsSpan(0, NodeCount);

    /// <summary>Same answer as <see cref="FitsGpus"/>, from the node's device summary (a loop only for several shares at once).</summary>
    public bool FitsGpusBySummary(int node, GpuRequest gpu)
    {
        if (gpu.IsNone) return true;
        // One device with the share free: the node's largest free share decides.
        if (gpu.Count == 1) return _gpuMaxFree[node] >= gpu.MilliPerGpu;
        // Whole GPUs: that many fully free devices (no device has more than MilliPerGpu free).
        if (gpu.Count > 1 && gpu.MilliPerGpu == MilliPerGpu) return _gpuFullyFree[node] >= gpu.Count;
        return FitsGpus(node, gpu);
    }

    /// <summary>Recomputes node's summary from the reference state; every change to its pods, resources or devices calls it.</summary>
    private void RefreshFitSummary(int node)
    {
        var row = _freeVectors.AsSpan(node * FreeVectorStride, ResourceNames.Count);
        for (var d = 0; d < ResourceNames.Count; d++) row[d] = Capacity[d][node] - Allocated[d][node];
        _podRoom[node] = _specs[node].MaxPods - Pods[node].Count;
        // No device: nothing fits a share (int.MinValue is below any request).
        var maxFree = int.MinValue;
        var fullyFree = 0;
        foreach (var free in GpuFreeOf(node))
        {
            if (free > maxFree) maxFree = free;
            if (free >= MilliPerGpu) fullyFree++;
        }
        _gpuMaxFree[node] = maxFree;
        _gpuFullyFree[node] = fullyFree;
    }

    private void GrowFitSummary(int size)
    {
        Array.Resize(ref _freeVectors, size * FreeVectorStride);
        _podRoom = Grow(_podRoom, size);
        _gpuMaxFree = Grow(_gpuMaxFree, size);
        _gpuFullyFree = Grow(_gpuFullyFree, size);
    }
}
