using System.Collections.Concurrent;

namespace MasOrleans.Grains.Scheduling;

/// <summary>The pod directory partitions of the queue shards active on this silo (<see cref="PodActivationPartition"/>).</summary>
public sealed class PodActivationTable
{
    private readonly ConcurrentDictionary<int, PodActivationPartition> _partitions = new();

    public void Open(int shard, PodActivationPartition partition) => _partitions[shard] = partition;

    /// <summary>Forgets the shard's partition if it is still <paramref name="partition"/> (not a newer activation's).</summary>
    public void Remove(int shard, PodActivationPartition partition) => _partitions.TryRemove(new KeyValuePair<int, PodActivationPartition>(shard, partition));

    public void UnregisterSilos(IReadOnlyCollection<Orleans.Runtime.SiloAddress> silos)
    {
        foreach (var partition in _partitions.Values) partition.UnregisterSilos(silos);
    }

    public bool TryGet(int shard, out PodActivationPartition partition) => _partitions.TryGetValue(shard, out partition!);
}
