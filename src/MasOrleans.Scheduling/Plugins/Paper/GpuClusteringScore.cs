using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>
/// GpuClustering: keep pods of one GPU "affinity" (shared, or k whole GPUs) together. Base score
/// 25 * (8000 - GPU milli left) / 8000, plus 75 when the node hosts only this affinity, 50 when it hosts
/// several including this one, 25 when it hosts no GPU pod, 0 otherwise. CPU-only pods score 0.
/// </summary>
public sealed class GpuClusteringScore : IScorePlugin
{
    public string Name => "GpuClustering";

    /// <summary>The simulator's affinity tag: 0 for shared GPUs, k for k whole GPUs, -1 for none.</summary>
    public static int AffinityOf(GpuRequest gpu) => gpu.IsNone ? -1 : gpu.IsShared ? 0 : gpu.Count;

    public long Score(SchedulingContext context, int node)
    {
        var podAffinity = AffinityOf(context.Gpu);
        if (podAffinity < 0) return 0;
        var cluster = context.Cluster;
        var left = PaperNodeView.GpuLeftTotal(cluster, node);
        var baseScore = NodeScore.MaxNodeScore / 4 * (PaperNodeView.MaxSpecGpuMilli - left) / PaperNodeView.MaxSpecGpuMilli;
        var hasSame = false;
        var hasOther = false;
        foreach (var bound in cluster.Pods[node])
        {
            var a = AffinityOf(bound.Pod.Gpu);
            if (a < 0) continue;
            if (a == podAffinity) hasSame = true;
            else hasOther = true;
        }
        var bonus = (hasSame, hasOther) switch
        {
            (true, false) => NodeScore.MaxNodeScore * 3 / 4,
            (true, true) => NodeScore.MaxNodeScore * 2 / 4,
            (false, false) => NodeScore.MaxNodeScore / 4,
            _ => 0,
        };
        return baseScore + bonus;
    }
}
