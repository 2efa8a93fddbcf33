using System.Collections.Concurrent;
using MasOrleans.Abstractions.Grains;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// The pod directory partitions of the queue shards active on this silo (<see cref="PodActivationPartition"/>), and the
/// pod activations this silo hosts (what a shard that lost its partition asks every silo for).
/// </summary>
public sealed class PodActivationTable
{
    private readonly ConcurrentDictionary<int, PodActivationPartition> _partitions = new();
    private readonly ConcurrentDictionary<GrainId, GrainAddress> _hosted = new();

    public void Open(int shard, PodActivationPartition partition) => _partitions[shard] = partition;

    /// <summary>Forgets the shard's partition if it is still <paramref name="partition"/> (not a newer activation's).</summary>
    public void Remove(int shard, PodActivationPartition partition) => _partitions.TryRemove(new KeyValuePair<int, PodActivationPartition>(shard, partition));

    public void Hosted(GrainAddress address) => _hosted[address.GrainId] = address;

    public void NotHosted(GrainAddress address) => _hosted.TryRemove(new KeyValuePair<GrainId, GrainAddress>(address.GrainId, address));

    public List<GrainAddress> HostedOf(int shard, int shardCount) =>
        [.. _hosted.Values.Where(a => QueueShards.Of(a.GrainId, shardCount) == shard)];

    public void UnregisterSilos(IReadOnlyCollection<SiloAddress> silos)
    {
        foreach (var partition in _partitions.Values) partition.UnregisterSilos(silos);
    }

    public bool TryGet(int shard, out PodActivationPartition partition) => _partitions.TryGetValue(shard, out partition!);
}
