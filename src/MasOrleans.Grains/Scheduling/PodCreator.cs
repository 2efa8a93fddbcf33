using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// Creates pods for the APIs, the extender and workloads: straight through the pod grain when its shard's silo is this
/// one, and otherwise through that silo's <see cref="IPodHostService"/>, so that the pod grain is looked up and
/// registered where its shard keeps its directory entry and the creation crosses silos once.
/// </summary>
public sealed class PodCreator(
    IGrainFactory grains, PodActivationTable table, IPodHostClient hosts, IClusterMembershipService membership, ILocalSiloDetails silo,
    IOptions<SchedulerOptions> options)
{
    public Task<PodCreation> Create(PodSpec spec, string? workload)
    {
        var shard = QueueShards.Of(spec.Name, options.Value.QueueShards);
        var home = table.TryGet(shard, out _) ? silo.SiloAddress : ShardPlacementDirector.SiloFor(shard, ActiveSilos());
        return home.Equals(silo.SiloAddress)
            ? grains.Reference<IPodGrain>(spec.Name).Create(spec, workload)
            : hosts.On(home).CreatePod(spec, workload);
    }

    /// <summary>The silos the placement chooses among (its own view of membership may lag this one: then the creation
    /// costs a lookup more, nothing else).</summary>
    private List<SiloAddress> ActiveSilos()
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        return active.Count > 0 ? active : [silo.SiloAddress];
    }
}
