using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Storage;

/// <summary>
/// Every pod as its own grain stored it: how the queue shards rebuild what they keep only in memory
/// (listing, waiting pods) after a restart or a failover, without any copy of the pod table being written per pod.
/// </summary>
public interface IPodDirectory
{
    /// <summary>
    /// Every stored pod whose name <paramref name="named"/> takes, the others not read at all (a queue shard asks for its
    /// own: each of 8 shards read all 20,000 pods' states at a restart, 160,000 reads that held the shards' activation
    /// 7-12 s past the silo's readiness); null when the storage cannot be listed (memory storage).
    /// </summary>
    Task<IReadOnlyList<StoredPod>?> ReadAll(Func<string, bool> named);
}

/// <summary>
/// A stored pod's phase and node, and whether it runs a container planned to exit at a set time (expectedDurationSeconds,
/// an <c>exit-N</c> image). Only the pod's activation carries such an exit out (its timer), so after a restart the pod
/// must be woken, or it runs on, holding its node, until someone asks for it.
/// </summary>
public sealed record StoredPod(PodEntry Entry, bool ExitPlanned);

/// <summary>Memory storage cannot be listed; its pods live and die with the process anyway.</summary>
public sealed class UnlistedPodDirectory : IPodDirectory
{
    public Task<IReadOnlyList<StoredPod>?> ReadAll(Func<string, bool> named) => Task.FromResult<IReadOnlyList<StoredPod>?>(null);
}
