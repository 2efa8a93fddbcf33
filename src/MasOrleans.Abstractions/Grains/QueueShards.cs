namespace MasOrleans.Abstractions.Grains;

/// <summary>Which shard a pod belongs to: a stable hash of its name (FNV-1a), the same in every process.</summary>
public static class QueueShards
{
    public static int Of(string podName, int shardCount)
    {
        var hash = 2166136261u;
        foreach (var c in podName)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % (uint)shardCount);
    }

    /// <summary>The shard of a pod grain, by its key (the pod's name).</summary>
    public static int Of(Orleans.Runtime.GrainId pod, int shardCount) => Of(pod.Key.ToString()!, shardCount);

    public static string Key(int shard) => shard.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every shard of a queue of <paramref name="shardCount"/> shards.</summary>
    public static IEnumerable<ISchedulingQueueGrain> All(IGrainFactory grains, int shardCount) =>
        Enumerable.Range(0, shardCount).Select(i => grains.Reference<ISchedulingQueueGrain>(Key(i)));

    /// <summary>Pings every shard: each answers once it runs, activated (on a surviving silo, after its silo died) if it did not.</summary>
    public static Task PingAll(IGrainFactory grains, int shardCount) => Task.WhenAll(All(grains, shardCount).Select(shard => shard.Ping()));
}
