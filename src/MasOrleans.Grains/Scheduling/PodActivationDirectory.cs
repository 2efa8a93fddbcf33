using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.GrainDirectory;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// Orleans' grain directory for pod grains: each pod's entry is kept by its queue shard (<see cref="PodActivationPartition"/>),
/// and pods are placed on their shard's silo. Orleans' own directory keeps an entry on the silo a hash of the pod picks,
/// so with N silos a new pod cost (N-1)/N remote lookups and as many remote registrations. Here the shard's silo looks
/// up and registers its own pods in memory, and another silo asks the shard.
/// </summary>
public sealed class PodActivationDirectory(IServiceProvider services, PodActivationTable table, IOptions<SchedulerOptions> options) : IGrainDirectory
{
    public const string Name = "mas-pods";

    // Resolved on first use: the grain factory is not constructible while Orleans builds its directories.
    private IGrainFactory Grains => _grains ??= services.GetRequiredService<IGrainFactory>();
    private IGrainFactory? _grains;
    private ISiloStatusOracle Silo => _silo ??= services.GetRequiredService<ISiloStatusOracle>();
    private ISiloStatusOracle? _silo;

    private int ShardOf(GrainId pod) => QueueShards.Of(pod.Key.ToString()!, options.Value.QueueShards);

    private IPodActivations Shard(int shard) => Grains.Reference<IPodActivations>(QueueShards.Key(shard));

    public Task<GrainAddress?> Register(GrainAddress address) => Register(address, null);

    /// <summary>Called by the silo that activated the pod: a registration it wins is remembered as hosted here.</summary>
    public async Task<GrainAddress?> Register(GrainAddress address, GrainAddress? previousAddress)
    {
        var shard = ShardOf(address.GrainId);
        var winner = table.TryGet(shard, out var local) && local.TryRegister(address, previousAddress, out var registered)
            ? registered
            : await Shard(shard).Register(address, previousAddress);
        if (address.Equals(winner)) table.Hosted(address);
        return winner;
    }

    /// <summary>
    /// Called by the silo whose activation stops. Not sent while the silo itself stops: its shards have gone first (so the
    /// call would find none to reach), and its death, declared as it leaves, removes its entries from every partition.
    /// </summary>
    public Task Unregister(GrainAddress address)
    {
        table.NotHosted(address);
        var shard = ShardOf(address.GrainId);
        if (table.TryGet(shard, out var local) && local.TryUnregister(address)) return Task.CompletedTask;
        return Silo.CurrentStatus.IsTerminating() ? Task.CompletedTask : Shard(shard).Unregister(address);
    }

    public Task<GrainAddress?> Lookup(GrainId grainId)
    {
        var shard = ShardOf(grainId);
        return table.TryGet(shard, out var local) && local.TryLookup(grainId, out var address)
            ? Task.FromResult(address)
            : Shard(shard).Lookup(grainId);
    }

    /// <summary>Every silo is told of a death and clears the partitions it holds: a partition lives only where its shard does.</summary>
    public Task UnregisterSilos(List<SiloAddress> siloAddresses)
    {
        table.UnregisterSilos(siloAddresses);
        return Task.CompletedTask;
    }
}
