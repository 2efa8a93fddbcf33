using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>
/// GpuPacking, from high to low: (1) the pod fits on partly used GPUs: max(100 - sum(left*100/1000)/10, 50);
/// (2) it needs k fully free GPUs on a partly used node: max(50 - k, 33); (3) every GPU of the node is
/// free: max(33 - freeGpus, freeGpus). Devices are tried smallest-free first. CPU-only pods score 0.
/// </summary>
public sealed class GpuPackingScore : IScorePlugin
{
    public string Name => "GpuPacking";

    public long Score(SchedulingContext context, int node)
    {
        var gpu = context.Gpu;
        if (gpu.IsNone) return 0;
        var free = context.Cluster.GpuFreeOf(node);
        var fullyFree = 0;
        foreach (var f in free) if (f == ClusterState.MilliPerGpu) fullyFree++;
        if (fullyFree == free.Length) return Math.Max(NodeScore.MaxNodeScore / 3 - fullyFree, fullyFree);

        Span<int> sorted = stackalloc int[free.Length];
        free.CopyTo(sorted);
        sorted.Sort();
        var needed = gpu.Count;
        var fullyFreeUsed = 0;
        long freeRatioOnUsed = 0;
        foreach (var left in sorted)
        {
            if (needed == 0) break;
            if (left < gpu.MilliPerGpu) continue;
            needed--;
            if (left == ClusterState.MilliPerGpu) fullyFreeUsed++;
            freeRatioOnUsed += left * 100L / ClusterState.MilliPerGpu;
        }
        if (needed != 0) return 0;
        if (fullyFreeUsed > 0) return Math.Max(NodeScore.MaxNodeScore / 2 - fullyFreeUsed, NodeScore.MaxNodeScore / 3);
        return Math.Max(NodeScore.MaxNodeScore - freeRatioOnUsed / 10, NodeScore.MaxNodeScore / 2);
    }
}
