using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Runtime.Services;
using Orleans.Services;

namespace MasOrleans.Grains.Scheduling;

/// <summary>This silo's pods: which it hosts (<see cref="PodActivationTable"/>), and creations sent here.</summary>
[Reentrant]
public sealed class PodHostService(GrainId id, Silo silo, ILoggerFactory loggers, PodActivationTable table, IGrainFactory grains,
    IOptions<SiloMessagingOptions> messaging, ExceptionCodec exceptions, SiloStopping stopping, LocalShards shards)
    : GrainService(id, silo, loggers), IPodHostService
{
    /// <remarks>Stopping from the stop's first step (<see cref="LocalShards.Stopping"/>), before the cluster hears of it.</remarks>
    public Task<HostedPods> HostedPods(int shard, int shardCount) => Task.FromResult(new HostedPods(table.HostedOf(shard, shardCount), shards.Stopping));

    /// <remarks>
    /// Refused, untouched, once this silo stops (<see cref="SiloStopping"/>): a pod grain made here now would be looked up
    /// and registered over messaging Orleans is about to close, and the batch was left unanswered (a 503 for each POST
    /// in it, and Orleans Errors here). The sender makes them where the pods' shards go next (<see cref="PodCreator"/>).
    /// </remarks>
    public Task<List<BatchAnswer<PodCreation>>> CreatePods(List<PodCreationRequest> requests) => stopping.IsStopping
        ? Task.FromResult(requests.Select(_ => new BatchAnswer<PodCreation>(Refused)).ToList())
        : BatchAnswers.Each(requests, r => $"creating pod '{r.Spec.Name}'", r => grains.Reference<IPodGrain>(r.Spec.Name).Create(r.Spec, r.Workload, r.Annotations, r.ContainerName, r.Manifest),
            messaging.Value.ResponseTimeout, exceptions.IsSupportedType);

    private static readonly PodCreation Refused = new(Outcome.Conflict("this silo is stopping"), SiloStopping: true);
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
