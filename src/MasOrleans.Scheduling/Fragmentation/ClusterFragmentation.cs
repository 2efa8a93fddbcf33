using MasOrleans.Scheduling.Cluster;

namespace MasOrleans.Scheduling.Fragmentation;

/// <summary>
/// Per-node F cached by the node's state version, so the cluster total after each placement costs one
/// node's recomputation. One instance follows one <see cref="ClusterState"/>; not thread-safe.
/// </summary>
public sealed class ClusterFragmentation(FragmentationModel model, ClusterState cluster)
{
    private double[] _fragment = [];
    private long[] _version = [];

    public FragmentationModel Model { get; } = model;
    public ClusterState Cluster { get; } = cluster;

    public double NodeFragment(int node)
    {
        if (_version.Length < Cluster.NodeCount)
        {
            var old = _version.Length;
            Array.Resize(ref _fragment, Cluster.NodeCount);
            Array.Resize(ref _version, Cluster.NodeCount);
            Array.Fill(_version, -1, old, Cluster.NodeCount - old);
        }
        var v = Cluster.NodeVersion(node);
        if (_version[node] != v)
        {
            _fragment[node] = Model.NodeFragment(Cluster, node);
            _version[node] = v;
        }
        return _fragment[node];
    }

    /// <summary>Sum of F over all nodes, in GPU milli.</summary>
    public double TotalMilli()
    {
        double sum = 0;
        for (var n = 0; n < Cluster.NodeCount; n++) sum += NodeFragment(n);
        return sum;
    }

    /// <summary>The paper's fragmentation rate: fragmented GPU milli as % of the cluster's GPU milli.</summary>
    public double PercentOfClusterGpu()
    {
        var capacity = (double)Cluster.GpuDeviceTotal * ClusterState.MilliPerGpu;
        return capacity == 0 ? 0 : 100.0 * TotalMilli() / capacity;
    }
}
