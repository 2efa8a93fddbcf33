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

    private volatile bool _stopping;

    /// <summary>
    /// This silo has begun to stop (before Orleans deactivates its grains): its shards start no more scheduling cycles.
    /// A cycle started now could outlive the messaging it needs. Safe to leave pods waiting: they are in storage (and
    /// in the shard's pod table, which moves with it), and the shard's next activation, on another silo, queues them.
    /// </summary>
    public bool Stopping => _stopping;

    public void Stop() => _stopping = true;
}
