using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Runtime.Services;
using Orleans.Services;

namespace MasOrleans.Grains.Scheduling;

/// <summary>Answers for this silo's pod activations, from its <see cref="PodActivationTable"/>.</summary>
[Reentrant]
public sealed class PodHostService(GrainId id, Silo silo, ILoggerFactory loggers, PodActivationTable table)
    : GrainService(id, silo, loggers), IPodHostService
{
    public Task<List<GrainAddress>> HostedPods(int shard, int shardCount) => Task.FromResult(table.HostedOf(shard, shardCount));
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
