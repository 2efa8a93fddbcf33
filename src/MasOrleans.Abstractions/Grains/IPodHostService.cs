using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Runtime;
using Orleans.Services;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// One per silo, for the pods it hosts. A queue shard that activates afresh asks every other silo not declared dead for
/// its pods' activations before it answers a directory lookup, so a pod that lives on after its shard moved away is
/// found again instead of being activated a second time. And a pod created through another silo is created here, on
/// its shard's silo, where its directory entry is kept.
/// </summary>
public interface IPodHostService : IGrainService
{
    /// <summary>Creates the pods (<see cref="IPodGrain.Create"/>) from this silo, concurrently, answering each in the
    /// order asked: creations that reached another silo cross once, together (<c>PodCreator</c> sends what gathered
    /// while its previous batch to this silo was in flight), and each pod is looked up and registered here without a
    /// message. A grain service rather than the shard grain: a shard that is moving or stopping would hold a creation
    /// whose pod registers with it.</summary>
    Task<List<BatchAnswer<PodCreation>>> CreatePods(List<PodCreationRequest> requests);

    /// <summary>The activations this silo hosts of the pods that hash to <paramref name="shard"/> of <paramref name="shardCount"/>,
    /// and whether this silo has begun a graceful stop (its pods are leaving it, though the asker's membership may still
    /// show it active).</summary>
    Task<HostedPods> HostedPods(int shard, int shardCount);
}

/// <summary>A silo's answer to <see cref="IPodHostService.HostedPods"/>.</summary>
[GenerateSerializer, Immutable, Alias("mas.hosted-pods")]
public sealed record HostedPods([property: Id(0)] List<GrainAddress> Pods, [property: Id(1)] bool SiloStopping);
