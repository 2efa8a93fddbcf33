using MasOrleans.Abstractions.Contracts;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>A silo's cluster view: node grains send it their changes, the index the cluster's default policy.</summary>
public interface IClusterObserver : IGrainObserver
{
    [OneWay]
    Task NodesChanged(IReadOnlyList<NodeChange> changes);

    /// <summary>The latest change of each node that changed lately on the sender's silo (see <see cref="NodeLatest"/>).</summary>
    [OneWay]
    Task NodesLatest(IReadOnlyList<NodeLatest> latest);

    [OneWay]
    Task DefaultPolicyChanged(string policy);
}
