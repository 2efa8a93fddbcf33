using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Replay;

/// <summary>Cluster-wide allocation as % of capacity per dimension, summed once per call (nodes are few thousand at most).</summary>
internal sealed class ClusterMeter(ClusterState cluster)
{
    private readonly double[] _capacity = ResourceNames.All.Select(k => (double)Sum(cluster.Capacity[(int)k], cluster.NodeCount)).ToArray();

    public double Percent(ResourceKind kind)
    {
        var cap = _capacity[(int)kind];
        return cap == 0 ? 0 : 100.0 * Sum(cluster.Allocated[(int)kind], cluster.NodeCount) / cap;
    }

    public long CapacityOf(ResourceKind kind) => (long)_capacity[(int)kind];

    private static long Sum(long[] values, int count)
    {
        long s = 0;
        for (var i = 0; i < count; i++) s += values[i];
        return s;
    }
}
