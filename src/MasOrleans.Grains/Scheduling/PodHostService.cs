using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Runtime.Services;
using Orleans.Services;

namespace MasOrleans.Grains.Scheduling;

/// <summary>This silo's pods: which it hosts (<see cref="PodActivationTable"/>), and creations sent here.</summary>
[Reentrant]
public sealed class PodHostService(GrainId id, Silo silo, ILoggerFactory loggers, PodActivationTable table, IGrainFactory grains)
    : GrainService(id, silo, loggers), IPodHostService
{
    public Task<List<GrainAddress>> HostedPods(int shard, int shardCount) => Task.FromResult(table.HostedOf(shard, shardCount));

    public async Task<List<PodCreationAnswer>> CreatePods(List<PodCreationRequest> requests)
    {
        var answers = await Task.WhenAll(requests.Select(Create));
        return [.. answers];
    }

    private async Task<PodCreationAnswer> Create(PodCreationRequest request)
    {
        try
        {
            return new(await grains.Reference<IPodGrain>(request.Spec.Name).Create(request.Spec, request.Workload));
        }
        catch (Exception e)
        {
            // Not handled here: the caller throws it for this pod alone, as a direct call would have.
            return new(null, e);
        }
    }
}

/// <summary>Reaches the <see cref="PodHostService"/> of a given silo.</summary>
public interface IPodHostClient : IGrainServiceClient<IPodHostService>
{
    IPodHostService On(SiloAddress silo);
}

public sealed class PodHostClient(IServiceProvider services) : GrainServiceClient<IPodHostService>(services), IPodHostClient
{
    public IPodHostService On(SiloAddress silo) => GetGrainService(silo);
}
