using MasOrleans.Abstractions.Contracts;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>A silo's cluster view: node grains send it their changes, the index the cluster's default policy.</summary>
public interface IClusterObserver : IGrainObserver
{
    [OneWay]
    Task NodesChanged(IReadOnlyList<NodeChange> changes);

    [OneWay]
    Task DefaultPolicyChanged(string policy);
}
