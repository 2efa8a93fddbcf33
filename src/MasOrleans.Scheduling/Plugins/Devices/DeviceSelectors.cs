using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Devices;

/// <summary>
/// The FGD simulator's default device choice (allocateGpuIdBasedOnBestFit): a shared pod goes to the
/// device with the least free milli that still fits; whole-GPU pods take the lowest-numbered free devices.
/// </summary>
public sealed class BestFitDeviceSelector : IGpuDeviceSelector
{
    public static readonly BestFitDeviceSelector Instance = new();
    public string Name => "best-fit";

    public GpuAllocation Select(ClusterState cluster, int node, PodSpec pod)
    {
        var gpu = pod.Gpu;
        if (gpu.IsNone) return GpuAllocation.None;
        var free = cluster.GpuFreeOf(node);
        if (gpu.IsShared)
        {
            var best = -1;
            for (var g = 0; g < free.Length; g++)
            {
                if (free[g] >= gpu.MilliPerGpu && (best < 0 || free[g] < free[best])) best = g;
            }
            return best < 0 ? GpuAllocation.None : new GpuAllocation([best], gpu.MilliPerGpu);
        }
        return WholeDevices(free, gpu);
    }

    /// <summary>The lowest-numbered devices with enough free milli, or none when too few.</summary>
    public static GpuAllocation WholeDevices(ReadOnlySpan<int> free, GpuRequest gpu)
    {
        var devices = new List<int>(gpu.Count);
        for (var g = 0; g < free.Length && devices.Count < gpu.Count; g++)
        {
            if (free[g] >= gpu.MilliPerGpu) devices.Add(g);
        }
        return devices.Count == gpu.Count ? new GpuAllocation(devices, gpu.MilliPerGpu) : GpuAllocation.None;
    }
}
