using Orleans.Runtime;

namespace MasOrleans.Grains.Nodes;

/// <summary>
/// This silo has begun a graceful stop (set before the cluster hears of it, so before another silo may activate this
/// silo's grains afresh). Orleans' directory then lets a node grain's next activation start on another silo, from Redis,
/// while this one still answers: a reservation stored here after that read was missing from the new activation, which
/// then listed a bound pod as not there and could give its room away. So this silo's node grains store no more
/// reservations (<see cref="NodeGrain"/>), and it makes no more pods other silos send it (<c>PodHostService</c>).
/// </summary>
public sealed class SiloStopping
{
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    public void Begin() => _stopping = true;

    /// <summary>
    /// How long a call refused by another silo because it stops waits for this silo's membership to show the stop: the
    /// silo announces it right after it begins to refuse (SchedulingSiloService), and a scheduling cycle must finish
    /// well within the queue shard's in-flight timeout.
    /// </summary>
    public static readonly TimeSpan AnnouncementWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether <paramref name="membership"/> shows <paramref name="silo"/> no longer active within
    /// <see cref="AnnouncementWait"/>: from then on Orleans' directory has dropped its activations, and a new placement
    /// leaves it out, so the refused call can be sent again, elsewhere.
    /// </summary>
    public static async Task<bool> Announced(IClusterMembershipService membership, SiloAddress silo)
    {
        using var wait = new CancellationTokenSource(AnnouncementWait);
        try
        {
            // The first snapshot is the current one.
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(wait.Token))
                if (snapshot.GetSiloStatus(silo) != SiloStatus.Active) return true;
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
        }
        return false;
    }
}
