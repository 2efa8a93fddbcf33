using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A node write refused by a silo that began to stop (a release, a relabel): that silo refuses from the moment its stop
/// begins but announces it only after waiting for its writes under way and its feed (SchedulingSiloService.Stop), so the
/// caller waits for the announcement before it asks again (SiloStopping.AskedAgainOnceAnnounced). The membership is the
/// test's.
/// </summary>
public sealed class SiloStoppingRefusalTests
{
    private static readonly SiloAddress Self = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Stopping = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 2);

    /// <summary>
    /// Failed before: the refused release was asked again for 2 s (SiloStopping.AnnouncementWait) from the first
    /// refusal, and the last refusal reached the caller (a pod's PodFinished never sent, a relabel answered 503) while
    /// the stopping silo was still waiting for its writes to settle. Now it waits for the refusing silo's announcement,
    /// named by the refusal, and lands at the node's next activation.
    /// </summary>
    [Fact]
    public async Task A_refusal_lasting_past_the_announcement_wait_is_asked_again_once_announced_and_lands()
    {
        var membership = new SettableMembership();
        membership.Set(Self, SiloStatus.Active);
        membership.Set(Stopping, SiloStatus.Active);
        var announced = 0;
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<bool> Release()
        {
            if (Volatile.Read(ref announced) == 1) return Task.FromResult(true);
            refused.TrySetResult();
            throw SiloStopping.Refusal("node rf-node", Stopping);
        }

        var releasing = SiloStopping.AskedAgainOnceAnnounced(membership, Self, SchedulingSiloService.RefusalToAnnouncement, Release);
        await refused.Task;
        // The stopping silo still waits for its writes and feed: longer than the 2 s the release used to be asked again.
        await Task.Delay(SiloStopping.AnnouncementWait + TimeSpan.FromMilliseconds(500));
        Volatile.Write(ref announced, 1);
        membership.Set(Stopping, SiloStatus.ShuttingDown);

        Assert.True(await releasing);
    }

    /// <summary>
    /// Failed before: a cycle's or the extender's release (NodeReserver.Release) waited up to
    /// SchedulingSiloService.RefusalToAnnouncement (6 s) for the announcement, past kube-scheduler's extender httpTimeout
    /// (5 s), whose retried bind could then have its reservation freed by the late release. It now waits no longer than
    /// a reservation does (SiloStopping.AnnouncementWait): an announcement coming after that finds the refusal already
    /// given to the caller, and the release is not asked again.
    /// </summary>
    [Fact]
    public async Task A_cycles_release_refused_past_the_announcement_wait_gives_up_without_asking_again()
    {
        var membership = new SettableMembership();
        membership.Set(Self, SiloStatus.Active);
        membership.Set(Stopping, SiloStatus.Active);
        var asks = 0;
        var node = Stand.In<INodeGrain>((method, _) =>
        {
            Assert.Equal(nameof(INodeGrain.Release), method.Name);
            Interlocked.Increment(ref asks);
            return Task.FromException<bool>(SiloStopping.Refusal("node rf-node", Stopping));
        });
        var reserver = new NodeReserver(Stand.In<IGrainFactory>((_, _) => node), Stand.In<INodeReservationClient>((_, _) => throw new InvalidOperationException("no reservation here")),
            membership, Stand.In<ILocalSiloDetails>((_, _) => Self));

        var releasing = reserver.Release("rf-node", "rf-pod", null);
        // The announcement comes after the cycle's limit but within the longer one a pod's own release takes.
        await Task.WhenAny(releasing, Task.Delay(SchedulingSiloService.RefusalToAnnouncement - TimeSpan.FromSeconds(1)));
        membership.Set(Stopping, SiloStatus.ShuttingDown);

        var refusal = await Assert.ThrowsAsync<SiloUnavailableException>(() => releasing);
        Assert.Equal(Stopping, SiloStopping.RefusingSilo(refusal));
        Assert.Equal(1, Volatile.Read(ref asks));
    }

    [Fact]
    public void A_refusal_names_the_refusing_silo_and_other_failures_name_none()
    {
        Assert.Equal(Stopping, SiloStopping.RefusingSilo(SiloStopping.Refusal("node rf-node", Stopping)));
        Assert.Null(SiloStopping.RefusingSilo(new SiloUnavailableException("Silo unavailable")));
        Assert.Null(SiloStopping.RefusingSilo(new InvalidOperationException("(refused by silo 127.0.0.1:1@1)")));
    }
}
