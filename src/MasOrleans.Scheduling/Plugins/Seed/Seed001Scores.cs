using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Kube;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Seed;

/// <summary>Whether the smallest or the largest raw value wins.</summary>
public enum Preference
{
    Lowest,
    Highest,
}

/// <summary>
/// Seed 001's best-fit / worst-fit weighting (ResourceScheduler._find_best_node): a node's free capacity as
/// free cores + 0.5 x free memory GiB + 4 x free GPUs, computed in thousandths so it stays an integer.
/// Best-fit prefers the lowest (tightest) node, worst-fit the highest. Reusable by any policy: pass
/// <see cref="Preference.Lowest"/> for best-fit. The exact optimum scores 100, the rest 0..99.
/// </summary>
public sealed class WeightedFreeCapacityScore(Preference preference) : IScorePlugin
{
    public string Name => preference == Preference.Lowest ? "BestFitFreeCapacity" : "WorstFitFreeCapacity";

    public long Score(SchedulingContext context, int node) => WeightedFree(context.Cluster, node);

    /// <summary>cpu milli + memory bytes * 500 / GiB + GPU free milli * 4 (GPU free summed over devices).</summary>
    public static long WeightedFree(ClusterState cluster, int node)
    {
        var cpu = cluster.Free(ResourceKind.Cpu, node);
        var memory = (long)((Int128)cluster.Free(ResourceKind.Memory, node) * 500 / (1024L * 1024 * 1024));
        long gpu = 0;
        foreach (var f in cluster.GpuFreeOf(node)) gpu += f;
        return cpu + memory + 4 * gpu;
    }

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores) =>
        ScoreNormalization.ExactBest(scores, preference == Preference.Lowest);
}

public enum UtilizationObjective
{
    /// <summary>load_balanced: lowest mean of cpu and memory utilization.</summary>
    LoadBalanced,
    /// <summary>energy_aware: highest mean utilization, consolidating onto busy nodes so idle ones can power down.</summary>
    EnergyAware,
    /// <summary>priority: closest to 70% (|cpu - 0.7| + 0.5 |memory - 0.7|).</summary>
    TargetUtilization,
}

/// <summary>Seed 001's utilization-based strategies, on requested cpu and memory before the pod lands (parts per million).</summary>
public sealed class Seed001UtilizationScore(UtilizationObjective objective, double target = 0.7) : IScorePlugin
{
    private const double Scale = 1_000_000;

    public string Name => objective switch
    {
        UtilizationObjective.LoadBalanced => "LoadBalanced",
        UtilizationObjective.EnergyAware => "EnergyAware",
        _ => "TargetUtilization",
    };

    public long Score(SchedulingContext context, int node)
    {
        var cpu = Utilization(context.Cluster, ResourceKind.Cpu, node);
        var memory = Utilization(context.Cluster, ResourceKind.Memory, node);
        var value = objective == UtilizationObjective.TargetUtilization
            ? Math.Abs(cpu - target) + Math.Abs(memory - target) * 0.5
            : (cpu + memory) / 2;
        return (long)(value * Scale);
    }

    /// <summary>used / capacity, 0 for a dimension the node does not have (as the seed does).</summary>
    public static double Utilization(ClusterState cluster, ResourceKind kind, int node)
    {
        var capacity = cluster.Capacity[(int)kind][node];
        return capacity > 0 ? (double)cluster.Allocated[(int)kind][node] / capacity : 0;
    }

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores) =>
        ScoreNormalization.ExactBest(scores, lowerIsBetter: objective != UtilizationObjective.EnergyAware);
}

/// <summary>
/// first_fit: the feasible node that comes first in node order scores 100, the others 0. Pair it with
/// percentageOfNodesToScore 100, or "first" means first among the sampled nodes.
/// </summary>
public sealed class FirstFitScore : IScorePlugin
{
    public string Name => "FirstFit";
    public long Score(SchedulingContext context, int node) => node;
    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores) =>
        ScoreNormalization.ExactBest(scores, lowerIsBetter: true);
}

/// <summary>
/// round_robin: the next feasible node after the one this plugin last chose, cycling over node order.
/// The cursor is per plugin instance (per profile), so one profile serves one scheduling stream.
/// </summary>
public sealed class RoundRobinScore : IScorePlugin
{
    private int _last = -1;

    public string Name => "RoundRobin";

    /// <summary>Distance ahead of the cursor: the next node after the last choice is 0.</summary>
    public long Score(SchedulingContext context, int node)
    {
        var count = context.Cluster.NodeCount;
        return ((node - _last - 1) % count + count) % count;
    }

    public void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++) if (scores[i] < scores[best]) best = i;
        if (scores.Length > 0) _last = feasibleNodes[best];
        ScoreNormalization.ExactBest(scores, lowerIsBetter: true);
    }
}
