using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// Seed 000's dynamic feedback: scores a node by what it measurably uses (ClusterState.Utilization, 0..1 per
/// dimension) plus the pod's request, instead of by what pods requested. A dimension that reported no
/// measurement (NaN) falls back to requested / capacity. LeastAllocated spreads onto quiet nodes,
/// MostAllocated packs onto busy ones; per resource score is 0..100, averaged by weight.
/// </summary>
public sealed class TelemetryUtilizationScore(ScoringStrategy strategy = ScoringStrategy.LeastAllocated, IReadOnlyList<ResourceWeight>? resources = null)
    : IScorePlugin
{
    private readonly IReadOnlyList<ResourceWeight> _resources = resources ?? NodeResourcesFitScore.DefaultResources;

    public string Name => "TelemetryUtilization";

    public long Score(SchedulingContext context, int node)
    {
        var cluster = context.Cluster;
        long nodeScore = 0, weightSum = 0;
        for (var i = 0; i < _resources.Count; i++)
        {
            var d = (int)_resources[i].Resource;
            var capacity = cluster.Capacity[d][node];
            if (capacity == 0) continue;
            var podRequest = context.Requests[d];
            // Extended dimensions the pod does not ask for say nothing about fit, as in NodeResourcesFit.
            if (podRequest == 0 && _resources[i].Resource is ResourceKind.Gpu or ResourceKind.DiskIo or ResourceKind.Network) continue;
            var measured = cluster.Utilization[d][node];
            var used = float.IsNaN(measured) ? (double)cluster.Allocated[d][node] / capacity : Math.Clamp(measured, 0f, 1f);
            var after = Math.Min(1.0, used + (double)podRequest / capacity);
            // Rounded: telemetry arrives as float, so 0.1f + 0.1 must not truncate 80 down to 79.
            var score = (long)Math.Round((strategy == ScoringStrategy.MostAllocated ? after : 1 - after) * NodeScore.MaxNodeScore, MidpointRounding.AwayFromZero);
            nodeScore += score * _resources[i].Weight;
            weightSum += _resources[i].Weight;
        }
        return weightSum == 0 ? 0 : nodeScore / weightSum;
    }
}
