using MasOrleans.Abstractions.Contracts;
using Orleans.Services;

namespace MasOrleans.Abstractions.Grains;

/// <summary>
/// One per silo, for the node grains it hosts: reservations that schedulers on other silos send together. Every pod
/// is reserved on the node grain the scheduler chose, which usually lives on another silo (with N silos, N-1 of N
/// times); sent one by one, each costs a request and a response between silos.
/// </summary>
public interface INodeReservationService : IGrainService
{
    /// <summary>Reserves each on its node grain (<see cref="INodeGrain.Reserve"/>) from this silo, concurrently,
    /// answering each in the order asked.</summary>
    Task<List<BatchAnswer<Reservation>>> Reserve(List<NodeReservationRequest> requests);
}
