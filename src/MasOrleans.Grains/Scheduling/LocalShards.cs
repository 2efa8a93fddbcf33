using System.Collections.Concurrent;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Grains.Scheduling;

/// <summary>The queue shards active on this silo: this silo's view wakes them when capacity appears.</summary>
public sealed class LocalShards
{
    private readonly ConcurrentDictionary<string, ISchedulingQueueGrain> _shards = new(StringComparer.Ordinal);

    public void Add(string key, ISchedulingQueueGrain shard) => _shards[key] = shard;

    public void Remove(string key) => _shards.TryRemove(key, out _);

    public IReadOnlyCollection<ISchedulingQueueGrain> All => [.. _shards.Values];
}
