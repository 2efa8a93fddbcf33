using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Search;

/// <summary>Which nodes go first among FGD's equal (rounded) scores for a CPU-only pod, before the simulator's name order.</summary>
public enum CpuPodTieOrder
{
    /// <summary>The name order only (FGD).</summary>
    Rank,

    /// <summary>Nodes with no idle GPU milli first: a CPU-only pod there takes CPU no GPU pod can use anyway.</summary>
    NoIdleGpu,

    /// <summary>The node with the least idle GPU milli first.</summary>
    LeastIdleGpu,
}

/// <summary>
/// FGD's integer score with an order among its equal scores for CPU-only pods: total = score · <see cref="Scale"/> +
/// a secondary in [0, Scale) that is larger for nodes the <see cref="CpuPodTieOrder"/> puts first; nodes equal in both keep
/// the profile's tie-break (the simulator's renamed-name order). GPU pods' totals are score · Scale, the same order as FGD.
/// </summary>
public sealed class TieOrderedFgdScore(FgdEvaluator evaluator, CpuPodTieOrder cpuPods) : IBatchScorePlugin
{
    /// <summary>Above any node's idle GPU milli (at most 8 devices × 1000 per node in the paper clusters; capped anyway).</summary>
    public const long Scale = 1 << 20;

    public string Name => "FGD";

    public long Score(SchedulingContext context, int node) =>
        evaluator.Evaluate(context.Cluster, node, context.Pod).Score * Scale + Secondary(context, node);

    public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        evaluator.ScoreBatch(context.Cluster, context.Pod, nodes, scores);
        for (var i = 0; i < nodes.Length; i++) scores[i] = scores[i] * Scale + Secondary(context, nodes[i]);
    }

    private long Secondary(SchedulingContext context, int node)
    {
        if (cpuPods == CpuPodTieOrder.Rank || !context.Pod.Gpu.IsNone) return 0;
        var idle = Math.Min(context.Cluster.Free(ResourceKind.Gpu, node), Scale - 1);
        return cpuPods switch
        {
            CpuPodTieOrder.NoIdleGpu => idle == 0 ? 1 : 0,
            _ => Scale - 1 - idle,
        };
    }

    public static CpuPodTieOrder OrderFrom(string? text) => text switch
    {
        null or "rank" => CpuPodTieOrder.Rank,
        "no-idle-gpu" => CpuPodTieOrder.NoIdleGpu,
        "least-idle-gpu" => CpuPodTieOrder.LeastIdleGpu,
        _ => throw new ArgumentException($"unknown cpu.tie '{text}' (known: rank, no-idle-gpu, least-idle-gpu)"),
    };
}
