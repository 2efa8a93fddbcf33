using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Storage;

/// <summary>
/// Every pod as its own grain stored it: how the queue shards rebuild what they keep only in memory
/// (listing, waiting pods) after a restart or a failover, without any copy of the pod table being written per pod.
/// </summary>
public interface IPodDirectory
{
    /// <summary>Every stored pod's phase and node; null when the storage cannot be listed (memory storage).</summary>
    Task<IReadOnlyList<PodEntry>?> ReadAll();
}

/// <summary>Memory storage cannot be listed; its pods live and die with the process anyway.</summary>
public sealed class UnlistedPodDirectory : IPodDirectory
{
    public Task<IReadOnlyList<PodEntry>?> ReadAll() => Task.FromResult<IReadOnlyList<PodEntry>?>(null);
}
