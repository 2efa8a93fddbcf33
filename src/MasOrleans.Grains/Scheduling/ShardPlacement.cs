using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// Places a queue shard, and the pods that hash to it, on one silo: shard i goes to the i-th active
/// silo (in address order, modulo their count). Shards are spread over the silos so every silo runs scheduling
/// cycles, and a pod's grain calls to its shard stay on one silo.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ShardPlacementStrategy : PlacementStrategy;

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardPlacementAttribute() : PlacementAttribute(new ShardPlacementStrategy());

public sealed class ShardPlacementDirector(IOptions<SchedulerOptions> options, PodActivationTable table) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        // A pod goes where its shard runs when that is here, as PodCreator sends creations: placed by the silo list, a
        // shard's waiting pods, asked again by its new activation while the silo it left was stopping but still listed,
        // went to that silo, which takes no activations (each retry lost, with Orleans' forwarding warnings).
        if (!IsShard(target.GrainIdentity) && context.LocalSiloStatus == SiloStatus.Active && table.TryGet(QueueShards.Of(target.GrainIdentity, options.Value.QueueShards), out _))
            return Task.FromResult(context.LocalSilo);
        SiloAddress[] silos;
        try
        {
            silos = context.GetCompatibleSilos(target);
        }
        catch (OrleansException) when (context.LocalSiloStatus is SiloStatus.ShuttingDown or SiloStatus.Stopping)
        {
            // A stopping silo moves its shards to the others (Orleans' migration on shutdown); when it is the last silo
            // there is no other, Orleans' "no compatible silos" would be logged as a failed migration (seen once in a
            // fresh-clone run), and nothing failed. Staying here tells Orleans not to move the shard: it deactivates.
            return Task.FromResult(context.LocalSilo);
        }
        return Task.FromResult(SiloFor(ShardOf(target.GrainIdentity, options.Value.QueueShards), silos));
    }

    /// <summary>The silo a shard belongs on among <paramref name="silos"/>.</summary>
    public static SiloAddress SiloFor(int shard, IReadOnlyCollection<SiloAddress> silos)
    {
        var ordered = silos.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        return ordered[shard % ordered.Length];
    }

    /// <summary>A shard's own number; for a pod, the shard it hashes to.</summary>
    public static int ShardOf(GrainId grain, int shardCount)
    {
        if (IsShard(grain) && int.TryParse(grain.Key.ToString(), out var shard)) return shard % shardCount;
        return QueueShards.Of(grain, shardCount);
    }

    private static bool IsShard(GrainId grain) => grain.Type.ToString() == "mas-scheduling-queue";
}
