using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
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
    private IClusterMembershipService Membership => _membership ??= services.GetRequiredService<IClusterMembershipService>();
    private IClusterMembershipService? _membership;

    private IPodActivations Shard(int shard) => Grains.Reference<IPodActivations>(QueueShards.Key(shard));

    public Task<GrainAddress?> Register(GrainAddress address) => Register(address, null);

    /// <summary>
    /// Called by the silo that activates the pod. It counts as hosted here from before the registration is sent, so a
    /// shard activated afresh meanwhile learns of it, until the registration is lost or fails.
    /// </summary>
    public async Task<GrainAddress?> Register(GrainAddress address, GrainAddress? previousAddress)
    {
        var shard = QueueShards.Of(address.GrainId, options.Value.QueueShards);
        table.Hosted(address);
        GrainAddress? winner = null;
        try
        {
            winner = await AskedAgainOnceStoppingSilosAreGone(() => table.TryGet(shard, out var local) && local.TryRegister(address, previousAddress, out var registered)
                ? Task.FromResult<GrainAddress?>(registered)
                : Shard(shard).Register(address, previousAddress));
            return winner;
        }
        finally
        {
            if (!address.Equals(winner)) table.NotHosted(address);
        }
    }

    /// <summary>
    /// Called by the silo whose activation stops. The last silo of a cluster, stopping, sends nothing: its shards may
    /// have gone before its pods, and no other silo is left to activate them on.
    /// </summary>
    public Task Unregister(GrainAddress address)
    {
        table.NotHosted(address);
        var shard = QueueShards.Of(address.GrainId, options.Value.QueueShards);
        if (table.TryGet(shard, out var local) && local.TryUnregister(address)) return Task.CompletedTask;
        return LastSiloStopping() ? Task.CompletedTask : AskedAgainOnceStoppingSilosAreGone(async () =>
        {
            if (!(table.TryGet(shard, out var here) && here.TryUnregister(address))) await Shard(shard).Unregister(address);
            return true;
        });
    }

    private bool LastSiloStopping()
    {
        var self = Silo.SiloAddress;
        return Silo.CurrentStatus.IsTerminating()
            && !Membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(self));
    }

    public Task<GrainAddress?> Lookup(GrainId grainId)
    {
        var shard = QueueShards.Of(grainId, options.Value.QueueShards);
        return AskedAgainOnceStoppingSilosAreGone(() => table.TryGet(shard, out var local) && local.TryLookup(grainId, out var address)
            ? Task.FromResult(address)
            : Shard(shard).Lookup(grainId));
    }

    /// <summary>
    /// A shard on a silo stopping gracefully is leaving it: a pod created or asked here meanwhile failed (a creation
    /// retried on this silo once the stop was announced, its registration sent to the stopping one). Asked again once
    /// that silo is gone, the call reaches the shard's next activation, which knows what each silo hosts, this pod too
    /// (<see cref="PodActivationTable.Hosted"/>). Each of these calls answers the same when asked twice.
    /// </summary>
    private Task<T> AskedAgainOnceStoppingSilosAreGone<T>(Func<Task<T>> ask) =>
        SiloStopping.AskedAgainOnceStoppingSilosAreGone(Membership, Silo.SiloAddress, ask);

    /// <summary>Every silo is told of a death and clears the partitions it holds: a partition lives only where its shard does.</summary>
    public Task UnregisterSilos(List<SiloAddress> siloAddresses)
    {
        table.UnregisterSilos(siloAddresses);
        return Task.CompletedTask;
    }
}
