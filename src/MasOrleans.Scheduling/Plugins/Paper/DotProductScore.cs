using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>
/// Tetris' dot product as the FGD simulator runs it with `-dimext merge -norm max`: node free vector
/// (cpu, total GPU milli) and pod request vector, both divided by the max specs; score = (1 - dot/2) * 100,
/// so the node whose free resources align least with the pod scores highest. No normalization.
/// </summary>
public sealed class DotProductScore : IScorePlugin
{
    public string Name => "DotProduct";

    public long Score(SchedulingContext context, int node)
    {
        var cluster = context.Cluster;
        var cpuLeft = PaperNodeView.CpuLeft(cluster, node);
        var cpuReq = PaperNodeView.PodCpu(context);
        if (cpuLeft < cpuReq) return 0;
        var dot = cpuLeft / PaperNodeView.MaxSpecCpu * (cpuReq / PaperNodeView.MaxSpecCpu)
                  + PaperNodeView.GpuLeftTotal(cluster, node) / PaperNodeView.MaxSpecGpu * (context.Gpu.TotalMilli / PaperNodeView.MaxSpecGpu);
        var score = 1 - dot / 2;
        return (long)(NodeScore.MaxNodeScore * score);
    }
}
