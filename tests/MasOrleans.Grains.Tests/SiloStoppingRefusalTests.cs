using System.Net;
using MasOrleans.Grains.Nodes;
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

        var releasing = SiloStopping.AskedAgainOnceAnnounced(membership, Self, Release);
        await refused.Task;
        // The stopping silo still waits for its writes and feed: longer than the 2 s the release used to be asked again.
        await Task.Delay(SiloStopping.AnnouncementWait + TimeSpan.FromMilliseconds(500));
        Volatile.Write(ref announced, 1);
        membership.Set(Stopping, SiloStatus.ShuttingDown);

        Assert.True(await releasing);
    }

    [Fact]
    public void A_refusal_names_the_refusing_silo_and_other_failures_name_none()
    {
        Assert.Equal(Stopping, SiloStopping.RefusingSilo(SiloStopping.Refusal("node rf-node", Stopping)));
        Assert.Null(SiloStopping.RefusingSilo(new SiloUnavailableException("Silo unavailable")));
        Assert.Null(SiloStopping.RefusingSilo(new InvalidOperationException("(refused by silo 127.0.0.1:1@1)")));
    }
}
