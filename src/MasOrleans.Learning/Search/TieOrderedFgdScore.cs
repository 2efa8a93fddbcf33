using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
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

    /// <summary>As <see cref="NoIdleGpu"/>, then nodes already hosting a pod (an empty node stays whole for multi-GPU pods).</summary>
    NoIdleGpuThenUsed,

    /// <summary>The node with the least idle GPU milli first.</summary>
    LeastIdleGpu,

    /// <summary>
    /// The node with the most CPU its idle GPUs will not need first: free CPU − idle GPU milli × the typical GPU pods' CPU per
    /// GPU milli (Σ p·cpu / Σ p·GPU milli).
    /// </summary>
    CpuSurplus,
}

/// <summary>Which nodes go first among FGD's equal (rounded) scores for a GPU pod, before the simulator's name order.</summary>
public enum GpuPodTieOrder
{
    /// <summary>The name order only (FGD).</summary>
    Rank,

    /// <summary>The node with the least free GPU milli first.</summary>
    Fullest,

    /// <summary>Nodes already hosting a pod first.</summary>
    Used,

    /// <summary>
    /// The node whose exact F grows least (the exact ΔF, which FGD's rounding hides) first; for a shared pod, ΔF of FGD's own
    /// device for the node (the rounded score's first), which may differ from the policy's device rule.
    /// </summary>
    Exact,
}

/// <summary>
/// FGD's integer score with an order among its equal scores for CPU-only pods and for GPU pods: total = score · <see cref="Scale"/> +
/// a secondary in [0, Scale) that is larger for nodes the pod's order (<see cref="CpuPodTieOrder"/> for CPU-only pods,
/// <see cref="GpuPodTieOrder"/> for GPU pods) puts first; nodes equal in both keep the profile's tie-break (the simulator's
/// renamed-name order). With an order Rank, that kind of pod's totals are score · Scale: FGD's order.
/// </summary>
public sealed class TieOrderedFgdScore(FgdEvaluator evaluator, CpuPodTieOrder cpuPods, int remnantMilli = 0, GpuPodTieOrder gpuPods = GpuPodTieOrder.Rank)
    : IBatchScorePlugin
{
    /// <summary>Above any node's idle GPU milli (at most 8 devices × 1000 per node in the paper clusters; capped anyway).</summary>
    public const long Scale = 1 << 20;

    // CPU milli the typical GPU pods ask per GPU milli.
    private readonly double _cpuPerGpuMilli = CpuPerGpuMilli(evaluator.Model.TypicalPods);

    public static double CpuPerGpuMilli(IReadOnlyList<TypicalPod> typical)
    {
        var gpu = typical.Where(t => t.Shape.NeedsGpu).ToList();
        var milli = gpu.Sum(t => t.Probability * t.Shape.MilliPerGpu * t.Shape.GpuCount);
        return milli > 0 ? gpu.Sum(t => t.Probability * t.Shape.CpuMilli) / milli : 0;
    }

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
        if (!context.Pod.Gpu.IsNone) return GpuSecondary(context, node);
        if (cpuPods == CpuPodTieOrder.Rank) return 0;
        var idle = Math.Min(context.Cluster.Free(ResourceKind.Gpu, node), Scale - 1);
        return cpuPods switch
        {
            CpuPodTieOrder.NoIdleGpu => NoDeviceAbove(context.Cluster.GpuFreeOf(node), remnantMilli) ? 1 : 0,
            CpuPodTieOrder.NoIdleGpuThenUsed => NoDeviceAbove(context.Cluster.GpuFreeOf(node), remnantMilli) ? 2 : context.Cluster.PodsOn(node).Count > 0 ? 1 : 0,
            CpuPodTieOrder.LeastIdleGpu => Scale - 1 - idle,
            _ => Math.Clamp(Scale / 2 + (long)(context.Cluster.Free(ResourceKind.Cpu, node) - idle * _cpuPerGpuMilli), 0, Scale - 1),
        };
    }

    private long GpuSecondary(SchedulingContext context, int node) => gpuPods switch
    {
        GpuPodTieOrder.Rank => 0,
        GpuPodTieOrder.Fullest => Scale - 1 - Math.Min(context.Cluster.Free(ResourceKind.Gpu, node), Scale - 1),
        GpuPodTieOrder.Used => context.Cluster.PodsOn(node).Count > 0 ? 1 : 0,
        _ => Math.Clamp(Scale / 2 - (long)Math.Round(evaluator.Evaluate(context.Cluster, node, context.Pod).FragmentationDelta), 0, Scale - 1),
    };

    public static GpuPodTieOrder GpuOrderFrom(string? text) => text switch
    {
        null or "rank" => GpuPodTieOrder.Rank,
        "fullest" => GpuPodTieOrder.Fullest,
        "used" => GpuPodTieOrder.Used,
        "exact" => GpuPodTieOrder.Exact,
        _ => throw new UserArgumentException($"unknown gpu.tie '{text}' (known: rank, fullest, used, exact)"),
    };

    private static bool NoDeviceAbove(ReadOnlySpan<int> free, int milli)
    {
        foreach (var f in free) if (f > milli) return false;
        return true;
    }

    public static CpuPodTieOrder OrderFrom(string? text) => text switch
    {
        null or "rank" => CpuPodTieOrder.Rank,
        "no-idle-gpu" => CpuPodTieOrder.NoIdleGpu,
        "no-idle-gpu-then-used" => CpuPodTieOrder.NoIdleGpuThenUsed,
        "least-idle-gpu" => CpuPodTieOrder.LeastIdleGpu,
        "cpu-surplus" => CpuPodTieOrder.CpuSurplus,
        _ => throw new UserArgumentException($"unknown cpu.tie '{text}' (known: rank, no-idle-gpu, no-idle-gpu-then-used, least-idle-gpu, cpu-surplus)"),
    };
}
