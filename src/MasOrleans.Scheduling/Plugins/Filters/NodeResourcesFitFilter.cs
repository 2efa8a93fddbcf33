using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Filters;

/// <summary>
/// kube-scheduler's NodeResourcesFit filter over every dimension, plus per-device GPU fit:
/// a 300m GPU request needs ONE device with 300 milli free, not 300 milli spread over several.
/// </summary>
public sealed class NodeResourcesFitFilter : IFilterPlugin
{
    private static readonly string[] InsufficientReasons =
        ResourceNames.All.Select(k => $"Insufficient {ResourceNames.NameOf(k)}").ToArray();

    public const string GpuDeviceReason = "node(s) had no GPU device with enough free share";

    public string Name => "NodeResourcesFit";

    public string? Filter(SchedulingContext context, int node)
    {
        var cluster = context.Cluster;
        var requests = context.Requests;
        for (var d = 0; d < ResourceNames.Count; d++)
        {
            var want = requests[d];
            if (want == 0) continue;
            if (want > cluster.Capacity[d][node] - cluster.Allocated[d][node]) return InsufficientReasons[d];
        }
        return cluster.FitsGpus(node, context.Gpu) ? null : GpuDeviceReason;
    }
}
