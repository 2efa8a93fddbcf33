using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>
/// BestFit: s = sum_i w_i (free_i - req_i) / maxSpec_i over (cpu milli, total GPU milli), w = (0.5, 0.5);
/// raw score (1 - s) * 100, then min-max normalized over the feasible nodes (the simulator's NormalizeScore).
/// </summary>
public sealed class BestFitScore : IScorePlugin
{
    public string Name => "BestFit";

    public long Score(SchedulingContext context, int node)
    {
        var cluster = context.Cluster;
        double cpuFree = PaperNodeView.CpuLeft(cluster, node), cpuReq = PaperNodeView.PodCpu(context);
        double gpuFree = PaperNodeView.GpuLeftTotal(cluster, node), gpuReq = context.Gpu.TotalMilli;
        if (cpuFree < cpuReq || gpuFree < gpuReq) return 0;
        var s = (cpuFree - cpuReq) / PaperNodeView.MaxSpecCpu * 0.5 + (gpuFree - gpuReq) / PaperNodeView.MaxSpecGpu * 0.5;
        return (long)((1.0 - s) * NodeScore.MaxNodeScore);
    }

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores) => MinMax.Normalize(scores);
}

/// <summary>The simulator's NormalizeScore: integer min-max to 0..100, all 0 when every score is equal.</summary>
public static class MinMax
{
    public static void Normalize(Span<long> scores)
    {
        if (scores.IsEmpty) return;
        long lo = long.MaxValue, hi = long.MinValue;
        foreach (var s in scores)
        {
            if (s < lo) lo = s;
            if (s > hi) hi = s;
        }
        var range = hi - lo;
        for (var i = 0; i < scores.Length; i++) scores[i] = range == 0 ? 0 : (scores[i] - lo) * NodeScore.MaxNodeScore / range;
    }
}
