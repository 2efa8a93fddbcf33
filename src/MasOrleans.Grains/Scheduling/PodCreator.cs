using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// Creates pods for the APIs, the extender and workloads: straight through the pod grain when its shard's silo is this
/// one, and otherwise through that silo's <see cref="IPodHostService"/>, so that the pod grain is looked up and
/// registered where its shard keeps its directory entry and the creation crosses silos once. Creations for another silo
/// travel together: one batch in flight per silo, and what arrives meanwhile goes in the next (under load, many pods a
/// message instead of a request and a response each; alone, a creation goes at once). A silo that stops refuses them
/// untouched: once this silo's membership shows the stop, they are made again where their shards go next.
/// </summary>
public sealed class PodCreator(
    IGrainFactory grains, PodActivationTable table, IPodHostClient hosts, IClusterMembershipService membership, ILocalSiloDetails silo,
    IOptions<SchedulerOptions> options)
{
    private readonly SiloCallBatchers<PodCreationRequest, PodCreation> _remote = new(address => hosts.On(address).CreatePods, r => $"pod '{r.Spec.Name}'");

    /// <summary>Batches sent to other silos since start, and the creations they carried (tests read them).</summary>
    public long BatchesSent => _remote.Batches;

    public long CreationsSent => _remote.Calls;

    /// <summary>Creations a stopping silo refused since start (tests read them).</summary>
    public long RefusedByStoppingSilos => Interlocked.Read(ref _refusedByStoppingSilos);

    private long _refusedByStoppingSilos;

    public async Task<PodCreation> Create(PodSpec spec, string? workload, IReadOnlyDictionary<string, string>? annotations = null, string? containerName = null, string? manifest = null)
    {
        var (creation, home) = await CreateOnce(spec, workload, annotations, containerName, manifest);
        if (!creation.SiloStopping) return creation;
        Interlocked.Increment(ref _refusedByStoppingSilos);
        if (await SiloStopping.Announced(membership, home))
        {
            (creation, _) = await CreateOnce(spec, workload, annotations, containerName, manifest);
            if (!creation.SiloStopping) return creation;
        }
        // Orleans' own word for it (the APIs answer 503, to be asked again): the pod was not made.
        throw new SiloUnavailableException($"pod '{spec.Name}' was not created: silo {home} is stopping; try again");
    }

    private async Task<(PodCreation Creation, SiloAddress Home)> CreateOnce(PodSpec spec, string? workload, IReadOnlyDictionary<string, string>? annotations, string? containerName, string? manifest)
    {
        var shard = QueueShards.Of(spec.Name, options.Value.QueueShards);
        var home = table.TryGet(shard, out _) ? silo.SiloAddress : ShardPlacementDirector.SiloFor(shard, ActiveSilos());
        if (home.Equals(silo.SiloAddress)) return (await grains.Reference<IPodGrain>(spec.Name).Create(spec, workload, annotations, containerName, manifest), home);
        return (await _remote.Add(home, new PodCreationRequest(spec, workload, annotations, containerName, manifest)), home);
    }

    /// <summary>The silos the placement chooses among (its own view of membership may lag this one: then the creation
    /// costs a lookup more, nothing else).</summary>
    private List<SiloAddress> ActiveSilos()
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        return active.Count > 0 ? active : [silo.SiloAddress];
    }
}
