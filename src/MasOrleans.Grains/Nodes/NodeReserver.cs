using System.Collections.Concurrent;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Orleans.Runtime;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// Reserves for this silo's scheduling cycles: straight on the node grain while its silo is unknown or this one, and
/// otherwise through that silo's <see cref="INodeReservationService"/>, usually one batch in flight per silo (up to
/// <see cref="SiloCallBatcher.MaxSenders"/> under a backlog), with what arrives meanwhile in the next (under load, many
/// reservations a message instead of a request and a response each). Where a node grain lives is learnt from its
/// answers (<see cref="Reservation.Host"/>; none for a deleted node); a node grain that moved is still reached through
/// its old silo (a hop more) and its next answer tells where it went. A node grain whose silo is stopping refuses
/// (<see cref="Reservation.SiloStopping"/>): once this silo's membership shows that silo stopping, the reservation is
/// sent again, until the node's next activation takes it (the directory drops the old one a moment later). The
/// scheduling cycles and the extender's bind both reserve here.
/// </summary>
public sealed class NodeReserver(IGrainFactory grains, INodeReservationClient hosts, IClusterMembershipService membership, ILocalSiloDetails silo)
{
    private readonly ConcurrentDictionary<string, SiloAddress> _hostOf = new(StringComparer.Ordinal);
    private readonly SiloCallBatchers<NodeReservationRequest, Reservation> _remote =
        new(address => hosts.On(address).Reserve, r => $"reservation of pod '{r.Pod.Name}' on node '{r.Node}'");

    /// <summary>Batches sent to other silos since start, and the reservations they carried (tests read them).</summary>
    public long BatchesSent => _remote.Batches;

    public long ReservationsSent => _remote.Calls;

    /// <summary>Nodes whose silo this silo knows (tests read it).</summary>
    public bool KnowsHostOf(string node) => _hostOf.ContainsKey(node);

    private SiloStatus Status(SiloAddress host) => membership.CurrentSnapshot.GetSiloStatus(host);

    public async Task<Reservation> Reserve(string node, PodSpec pod, GpuAllocation gpus)
    {
        Reservation reservation;
        try
        {
            reservation = await ReserveOnce(node, pod, gpus);
        }
        catch (Exception e) when (SiloStopping.BrokenByStop(e))
        {
            // The node's silo stopped (or died) with the reservation in flight: Orleans broke the call, and the
            // reservation may have landed all the same. Asked again at the node's next activation, which holds it if
            // it did (Reserve is idempotent per pod), rather than failing the cycle, whose pod could then be placed
            // elsewhere while this node held it.
            return await ReserveAgain(node, pod, gpus);
        }
        // A cycle waits for the announcement no longer than AnnouncementWait: it must finish well within its shard's
        // in-flight timeout, and a refused reservation only queues the pod again.
        if (!reservation.SiloStopping || reservation.Host is not { } stopping
            || !await SiloStopping.RefusalAnnounced(membership, silo.SiloAddress, stopping, SiloStopping.AnnouncementWait))
            return reservation;
        return await ReserveAgain(node, pod, gpus);
    }

    /// <summary>
    /// After the node's silo announced its stop (or broke the call): this silo's directory takes the announcement a
    /// moment after its membership shows it, and until then a call can still reach the stopping activation, which
    /// refuses again, or its silo, which rejects it as it closes its messaging. Asked again, briefly, within
    /// <see cref="SiloStopping.AnnouncementWait"/> (Reserve is idempotent per pod); the last answer stands.
    /// </summary>
    private Task<Reservation> ReserveAgain(string node, PodSpec pod, GpuAllocation gpus) =>
        SiloStopping.AskedAgainWhileAnnounced(() => ReserveOnce(node, pod, gpus), static r => r.SiloStopping);

    /// <summary>
    /// A release (answered the same when asked twice) that a node grain on a stopping silo refused is asked again once
    /// that silo announced its stop (<see cref="SiloStopping.AskedAgainOnceAnnounced"/>), reaching the node's next
    /// activation. Its callers, a scheduling cycle and the extender's bind (whose kube-scheduler gives up after its
    /// extender httpTimeout, 5 s, and may bind the pod again), wait for the announcement no longer than their
    /// reservations do (<see cref="SiloStopping.AnnouncementWait"/>): a later release could free what a retried bind reserved.
    /// </summary>
    public Task<bool> Release(string node, string pod, DateTimeOffset? podCreatedAt) =>
        SiloStopping.AskedAgainOnceAnnounced(membership, silo.SiloAddress, SiloStopping.AnnouncementWait, () => grains.Reference<INodeGrain>(node).Release(pod, podCreatedAt));

    private async Task<Reservation> ReserveOnce(string node, PodSpec pod, GpuAllocation gpus)
    {
        Reservation reservation;
        if (_hostOf.TryGetValue(node, out var host) && !host.Equals(silo.SiloAddress) && Status(host) == SiloStatus.Active)
        {
            try
            {
                reservation = await _remote.Add(host, new NodeReservationRequest(node, pod, gpus));
            }
            catch
            {
                // Thrown on to the cycle as a direct call's failure would be; the next reservation for the node goes
                // straight to its grain and learns again where it lives.
                _hostOf.TryRemove(KeyValuePair.Create(node, host));
                throw;
            }
        }
        else
        {
            if (host is not null && Status(host) == SiloStatus.Dead)
            {
                _hostOf.TryRemove(KeyValuePair.Create(node, host));
                _remote.Forget(host);
            }
            reservation = await grains.Reference<INodeGrain>(node).Reserve(pod, gpus);
        }
        if (reservation.Host is { } at && !reservation.SiloStopping) _hostOf[node] = at;
        else _hostOf.TryRemove(node, out _);
        return reservation;
    }
}
