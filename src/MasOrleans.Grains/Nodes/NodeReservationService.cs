using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.Services;
using Orleans.Serialization;
using Orleans.Services;

namespace MasOrleans.Grains.Nodes;

/// <summary>Reservations other silos' schedulers send here in batches, for the node grains this silo hosts.</summary>
[Reentrant]
public sealed class NodeReservationService(GrainId id, Silo silo, ILoggerFactory loggers, IGrainFactory grains,
    IOptions<SiloMessagingOptions> messaging, ExceptionCodec exceptions)
    : GrainService(id, silo, loggers), INodeReservationService
{
    private long _received;

    /// <summary>Reservations received since start (tests read it).</summary>
    public long Received => Interlocked.Read(ref _received);

    public async Task<List<BatchAnswer<Reservation>>> Reserve(List<NodeReservationRequest> requests)
    {
        Interlocked.Add(ref _received, requests.Count);
        // Each within its own budget: a slow node must not time out the others' answers.
        return await BatchAnswers.Each(requests, r => $"reserving pod '{r.Pod.Name}' on node '{r.Node}'",
            r => grains.Reference<INodeGrain>(r.Node).Reserve(r.Pod, r.Gpus), messaging.Value.ResponseTimeout, exceptions.IsSupportedType);
    }
}

/// <summary>Reaches the <see cref="NodeReservationService"/> of a given silo.</summary>
public interface INodeReservationClient : IGrainServiceClient<INodeReservationService>
{
    INodeReservationService On(SiloAddress silo);
}

public sealed class NodeReservationClient(IServiceProvider services) : GrainServiceClient<INodeReservationService>(services), INodeReservationClient
{
    public INodeReservationService On(SiloAddress silo) => GetGrainService(silo);
}
