using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// Packs GPU requests tightly: a share prefers the node whose best-fitting device is left with the least free
/// milli (100 when the share fills the device exactly); whole-GPU pods prefer nodes left with the fewest fully
/// free devices, keeping whole devices available for later whole-GPU pods. Pods without GPUs skip it.
/// </summary>
public sealed class GpuSharePackingScore : IBatchScorePlugin
{
    public string Name => "GpuSharePacking";

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        if (context.Gpu.IsNone) context.Skip(this);
    }

    public long Score(SchedulingContext context, int node) => Score(context.Gpu, context.Cluster.GpuFreeOf(node));

    public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        var gpu = context.Gpu;
        var cluster = context.Cluster;
        for (var j = 0; j < nodes.Length; j++) scores[j] = Score(gpu, cluster.GpuFreeOf(nodes[j]));
    }

    private static long Score(GpuRequest gpu, ReadOnlySpan<int> free)
    {
        if (gpu.IsNone || free.Length == 0) return 0;
        if (gpu.IsShared)
        {
            var leftover = int.MaxValue;
            foreach (var f in free)
                if (f >= gpu.MilliPerGpu && f - gpu.MilliPerGpu < leftover) leftover = f - gpu.MilliPerGpu;
            return leftover == int.MaxValue ? 0 : NodeScore.MaxNodeScore * (ClusterState.MilliPerGpu - leftover) / ClusterState.MilliPerGpu;
        }
        var fullyFree = 0;
        foreach (var f in free) if (f >= ClusterState.MilliPerGpu) fullyFree++;
        var remaining = Math.Max(0, fullyFree - gpu.Count);
        return NodeScore.MaxNodeScore * (free.Length - remaining) / free.Length;
    }
}
