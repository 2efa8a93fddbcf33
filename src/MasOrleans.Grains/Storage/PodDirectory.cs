using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Storage;

/// <summary>
/// Every pod as its own grain stored it: how the queue shards rebuild what they keep only in memory
/// (listing, waiting pods) after a restart or a failover, without any copy of the pod table being written per pod.
/// </summary>
public interface IPodDirectory
{
    /// <summary>
    /// The phase and node of every stored pod whose name <paramref name="named"/> takes, the others not read at all (a
    /// queue shard asks for its own: each of 8 shards read all 20,000 pods' states at a restart, 160,000 reads that held
    /// the shards' activation 7-12 s past the silo's readiness); null when the storage cannot be listed (memory storage).
    /// </summary>
    Task<IReadOnlyList<PodEntry>?> ReadAll(Func<string, bool> named);
}

/// <summary>Memory storage cannot be listed; its pods live and die with the process anyway.</summary>
public sealed class UnlistedPodDirectory : IPodDirectory
{
    public Task<IReadOnlyList<PodEntry>?> ReadAll(Func<string, bool> named) => Task.FromResult<IReadOnlyList<PodEntry>?>(null);
}
