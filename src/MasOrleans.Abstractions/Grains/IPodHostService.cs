using Orleans.Runtime;
using Orleans.Services;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// One per silo: the pod grain activations the silo hosts. A queue shard that activates afresh (its silo died) asks
/// every silo for its pods' activations before it answers a directory lookup, so a pod that lives on after its shard
/// moved and died is found again instead of being activated a second time.
/// </summary>
public interface IPodHostService : IGrainService
{
    /// <summary>The activations this silo hosts of the pods that hash to <paramref name="shard"/> of <paramref name="shardCount"/>.</summary>
    Task<List<GrainAddress>> HostedPods(int shard, int shardCount);
}
