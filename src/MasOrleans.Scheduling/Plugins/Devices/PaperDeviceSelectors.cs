using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Paper;

namespace MasOrleans.Scheduling.Plugins.Devices;

/// <summary>
/// The simulator's allocateGpuIdBasedOnWorstFit: a shared pod goes to the device with the MOST free milli
/// that fits (first on ties); whole-GPU pods take the lowest-numbered free devices.
/// </summary>
public sealed class WorstFitDeviceSelector : IGpuDeviceSelector
{
    public static readonly WorstFitDeviceSelector Instance = new();
    public string Name => "worst-fit";

    public GpuAllocation Select(ClusterState cluster, int node, PodSpec pod)
    {
        var gpu = pod.Gpu;
        if (gpu.IsNone) return GpuAllocation.None;
        var free = cluster.GpuFreeOf(node);
        if (!gpu.IsShared) return BestFitDeviceSelector.WholeDevices(free, gpu);
        var best = -1;
        for (var g = 0; g < free.Length; g++)
        {
            if (free[g] >= gpu.MilliPerGpu && (best < 0 || free[g] > free[best])) best = g;
        }
        return best < 0 ? GpuAllocation.None : new GpuAllocation([best], gpu.MilliPerGpu);
    }
}

/// <summary>
/// FGD's device choice (allocateGpuIdBasedOnFGDScore): a shared pod takes the device whose use lowers the
/// node's fragmentation most; whole-GPU pods take the lowest-numbered free devices.
/// </summary>
public sealed class FgdDeviceSelector(FgdEvaluator evaluator) : IGpuDeviceSelector
{
    public string Name => "fgd";

    public GpuAllocation Select(ClusterState cluster, int node, PodSpec pod)
    {
        var gpu = pod.Gpu;
        if (gpu.IsNone) return GpuAllocation.None;
        if (!gpu.IsShared) return BestFitDeviceSelector.WholeDevices(cluster.GpuFreeOf(node), gpu);
        var device = evaluator.Evaluate(cluster, node, pod).Device;
        return device < 0 ? GpuAllocation.None : new GpuAllocation([device], gpu.MilliPerGpu);
    }
}
