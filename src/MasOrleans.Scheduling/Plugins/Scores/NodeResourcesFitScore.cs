using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Scores;

public enum ScoringStrategy
{
    LeastAllocated,
    MostAllocated,
    RequestedToCapacityRatio,
}

/// <summary>A RequestedToCapacityRatio shape point: utilization 0..100 maps to score 0..10.</summary>
public sealed record UtilizationShapePoint(int Utilization, int Score);

/// <summary>
/// kube-scheduler's NodeResourcesFit score plugin with its three strategies, integer arithmetic as in
/// v1.35: truncating division, except RequestedToCapacityRatio which skips zero-scoring resources and rounds (least_allocated.go, most_allocated.go, requested_to_capacity_ratio.go).
/// </summary>
public sealed class NodeResourcesFitScore : IBatchScorePlugin
{
    private readonly ResourceKind[] _kinds;
    private readonly long[] _weights;
    private readonly ScoringStrategy _strategy;
    private readonly Func<long, long>? _shape;

    public NodeResourcesFitScore(ScoringStrategy strategy = ScoringStrategy.LeastAllocated,
        IReadOnlyList<ResourceWeight>? resources = null, IReadOnlyList<UtilizationShapePoint>? shape = null)
    {
        _strategy = strategy;
        var list = resources ?? DefaultResources;
        _kinds = ResourceAllocation.Kinds(list);
        _weights = ResourceAllocation.Weights(list);
        if (strategy == ScoringStrategy.RequestedToCapacityRatio)
        {
            var points = shape ?? [new(0, 10), new(100, 0)];
            // The shape's scores run 0..10; kube-scheduler scales them by MaxNodeScore / MaxCustomPriorityScore.
            _shape = BuildBrokenLinear(points.Select(p => (p.Utilization, p.Score * (NodeScore.MaxNodeScore / 10))).ToArray());
        }
    }

    public static IReadOnlyList<ResourceWeight> DefaultResources { get; } = [new(ResourceKind.Cpu, 1), new(ResourceKind.Memory, 1)];

    public string Name => "NodeResourcesFit";

    public long Score(SchedulingContext context, int node)
    {
        Span<long> requested = stackalloc long[_kinds.Length];
        Span<long> allocatable = stackalloc long[_kinds.Length];
        ResourceAllocation.Gather(context, node, _kinds, nonZeroDefaults: true, requested, allocatable);
        long nodeScore = 0, weightSum = 0;
        for (var i = 0; i < _kinds.Length; i++)
        {
            if (allocatable[i] != 0) Accumulate(requested[i], allocatable[i], _weights[i], ref nodeScore, ref weightSum);
        }
        return Finish(nodeScore, weightSum);
    }

    public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        var buffer = new ResourceColumnBuffer();
        Span<ResourceColumn> columns = _kinds.Length <= ResourceNames.Count ? buffer : new ResourceColumn[_kinds.Length];
        columns = columns[..ResourceAllocation.Columns(context, _kinds, _weights, nonZeroDefaults: true, columns)];
        if (_strategy == ScoringStrategy.LeastAllocated && columns.Length == 2)
        {
            // kube's default (cpu and memory): a loop with no per-resource branching.
            LeastAllocatedTwo(columns[0], columns[1], nodes, scores);
            return;
        }
        for (var j = 0; j < nodes.Length; j++)
        {
            var node = nodes[j];
            long nodeScore = 0, weightSum = 0;
            foreach (ref readonly var column in columns)
            {
                var allocatable = column.Capacity[node];
                if (allocatable != 0) Accumulate(column.Used[node] + column.PodRequest, allocatable, column.Weight, ref nodeScore, ref weightSum);
            }
            scores[j] = Finish(nodeScore, weightSum);
        }
    }

    private static void LeastAllocatedTwo(in ResourceColumn a, in ResourceColumn b, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        var (capA, usedA, reqA, weightA) = a;
        var (capB, usedB, reqB, weightB) = b;
        for (var j = 0; j < nodes.Length; j++)
        {
            var node = nodes[j];
            long nodeScore = 0, weightSum = 0;
            var allocA = capA[node];
            if (allocA != 0)
            {
                nodeScore += LeastAllocated(usedA[node] + reqA, allocA) * weightA;
                weightSum += weightA;
            }
            var allocB = capB[node];
            if (allocB != 0)
            {
                nodeScore += LeastAllocated(usedB[node] + reqB, allocB) * weightB;
                weightSum += weightB;
            }
            scores[j] = weightSum == 0 ? 0 : nodeScore / weightSum;
        }
    }

    private void Accumulate(long requested, long allocatable, long weight, ref long nodeScore, ref long weightSum)
    {
        var resourceScore = ResourceScore(requested, allocatable);
        // requested_to_capacity_ratio.go leaves resources scoring 0 out of the weighted mean.
        if (_strategy == ScoringStrategy.RequestedToCapacityRatio && resourceScore <= 0) return;
        nodeScore += resourceScore * weight;
        weightSum += weight;
    }

    private long Finish(long nodeScore, long weightSum)
    {
        if (weightSum == 0) return 0;
        // RequestedToCapacityRatio rounds (math.Round: half away from zero); the other two truncate.
        return _strategy == ScoringStrategy.RequestedToCapacityRatio
            ? (long)Math.Round((double)nodeScore / weightSum, MidpointRounding.AwayFromZero)
            : nodeScore / weightSum;
    }

    /// <summary>least_allocated.go's leastRequestedScore: truncating integer division.</summary>
    private static long LeastAllocated(long requested, long capacity) =>
        capacity == 0 || requested > capacity ? 0 : (capacity - requested) * NodeScore.MaxNodeScore / capacity;

    private long ResourceScore(long requested, long capacity)
    {
        switch (_strategy)
        {
            case ScoringStrategy.LeastAllocated:
                return LeastAllocated(requested, capacity);
            case ScoringStrategy.MostAllocated:
                if (capacity == 0) return 0;
                // Requests above capacity score as full (most_allocated.go caps them).
                if (requested > capacity) requested = capacity;
                return requested * NodeScore.MaxNodeScore / capacity;
            default:
                if (capacity == 0 || requested > capacity) return _shape!(100);
                return _shape!(ScaledUtilization(requested, capacity));
        }
    }

    /// <summary>requested * 100 / capacity clamped to [0, 100] (scaledUtilization); 128-bit safe via Int128.</summary>
    internal static long ScaledUtilization(long requested, long capacity)
    {
        if (capacity <= 0 || requested <= 0) return 0;
        if (requested >= capacity) return 100;
        return (long)((Int128)requested * 100 / capacity);
    }

    /// <summary>kube-scheduler's helper.BuildBrokenLinearFunction: piecewise linear with integer division.</summary>
    internal static Func<long, long> BuildBrokenLinear((int X, long Y)[] points) => p =>
    {
        for (var i = 0; i < points.Length; i++)
        {
            if (p <= points[i].X)
            {
                if (i == 0) return points[0].Y;
                return points[i - 1].Y + (points[i].Y - points[i - 1].Y) * (p - points[i - 1].X) / (points[i].X - points[i - 1].X);
            }
        }
        return points[^1].Y;
    };
}
