using System.Net;
using MasOrleans.Grains.Nodes;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A fresh queue shard asks every other silo which of its pods it hosts (SchedulingQueueGrain.HostedBySilos); a silo
/// whose call broke hosts none once it is shown dead. The rule asked only silos this one already knew to be stopping:
/// SiloStopTests' rolling restart failed a fresh-clone run on Warning 1206 for a silo whose call broke before this silo
/// heard of its stop (or after it heard of its death). The membership here is set by the test.
/// </summary>
public sealed class SiloShownGoneTests
{
    private static readonly SiloAddress Other = SiloAddress.New(IPAddress.Loopback, 11112, 1);

    private readonly SettableMembership _membership = new();

    /// <summary>Failed before: a silo still shown active when its call broke counted as not gone, whatever followed.</summary>
    [Fact]
    public async Task A_silo_whose_stop_is_announced_after_its_call_broke_is_gone_once_shown_dead()
    {
        _membership.Set(Other, SiloStatus.Active);

        var gone = SiloStopping.ShownGoneAfterBreak(_membership, Other, knownStopping: false);
        Assert.False(gone.IsCompleted, $"answered while the silo is still shown active: {gone.Status}");
        _membership.Set(Other, SiloStatus.ShuttingDown);
        Assert.False(gone.IsCompleted, $"answered while the silo still stops: {gone.Status}");
        _membership.Set(Other, SiloStatus.Dead);

        Assert.True(await gone.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Failed before: a silo already shown dead was not "stopping", so its pods were said unknown (Warning 1206).</summary>
    [Fact]
    public async Task A_silo_already_shown_dead_is_gone_at_once()
    {
        _membership.Set(Other, SiloStatus.Dead);

        Assert.True(await SiloStopping.ShownGoneAfterBreak(_membership, Other, knownStopping: false).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>A silo that crashed and stays shown active is not gone: the caller says loudly that its pods are unknown.</summary>
    [Fact]
    public async Task A_silo_still_shown_active_after_the_announcement_wait_is_not_gone()
    {
        _membership.Set(Other, SiloStatus.Active);

        Assert.False(await SiloStopping.ShownGoneAfterBreak(_membership, Other, knownStopping: false).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>One known to stop (its own answer said so) is waited for even while this silo's membership shows it active.</summary>
    [Fact]
    public async Task A_silo_known_to_stop_is_gone_once_shown_dead()
    {
        _membership.Set(Other, SiloStatus.Active);

        var gone = SiloStopping.ShownGoneAfterBreak(_membership, Other, knownStopping: true);
        Assert.False(gone.IsCompleted, $"answered while the silo is still shown active: {gone.Status}");
        _membership.Set(Other, SiloStatus.Dead);

        Assert.True(await gone.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
