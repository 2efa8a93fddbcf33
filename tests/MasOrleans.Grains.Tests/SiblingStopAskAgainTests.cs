using System.Net;
using MasOrleans.Grains.Nodes;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The rule a REST read follows when a call breaks (SiloStopping.AskedAgainAfterSiblingsStop, the silo's ReadsAskedAgain),
/// and the grain side's (SiloStopping.AskedAgainOnceStoppingSilosAreGone), with the membership set by the test.
/// </summary>
public sealed class SiblingStopAskAgainTests
{
    private static readonly SiloAddress Self = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress Other = SiloAddress.New(IPAddress.Loopback, 11112, 1);

    private readonly SettableMembership _membership = new();

    /// <summary>As a call in flight to a stopping silo breaks (Orleans' CallbackData), naming no silo.</summary>
    private static Task<int> Breaks() => throw new SiloUnavailableException("The target silo became unavailable for message: 'Request ... ListPods()'.");

    /// <summary>
    /// Failed before (the wait took no cancellation: it ran its course, up to 10 s for the sibling to be shown dead, and
    /// then the break reached the caller): when the caller's own end comes (its client left, or its silo stops, which
    /// otherwise waits on the request to the host's bound), the wait for a sibling that stays shown stopping ends then,
    /// with the cancellation.
    /// </summary>
    [Fact]
    public async Task The_wait_for_a_stopping_sibling_ends_with_the_callers_cancellation()
    {
        _membership.Set(Self, SiloStatus.Active);
        _membership.Set(Other, SiloStatus.ShuttingDown);
        using var cancellation = new CancellationTokenSource();
        var asked = 0;

        var read = SiloStopping.AskedAgainAfterSiblingsStop(_membership, Self, () => { asked++; return Breaks(); }, _ => { }, cancellation.Token);
        Assert.False(read.IsCompleted, $"answered while the sibling is still shown stopping: {read.Status}");
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Equal(1, asked);
    }

    /// <summary>The same break once the sibling is shown dead is asked again, and said so.</summary>
    [Fact]
    public async Task A_break_while_a_sibling_stops_is_asked_again_once_it_is_shown_dead()
    {
        _membership.Set(Self, SiloStatus.Active);
        _membership.Set(Other, SiloStatus.ShuttingDown);
        var asked = 0;
        var heard = new List<Exception>();

        var read = SiloStopping.AskedAgainAfterSiblingsStop(_membership, Self, () => ++asked == 1 ? Breaks() : Task.FromResult(asked), heard.Add, CancellationToken.None);
        Assert.False(read.IsCompleted, $"answered while the sibling is still shown stopping: {read.Status}");
        _membership.Set(Other, SiloStatus.Dead);

        Assert.Equal(2, await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.IsType<SiloUnavailableException>(Assert.Single(heard));
    }

    /// <summary>With no sibling stopping, a break is the caller's at once, not asked again.</summary>
    [Fact]
    public async Task A_break_with_no_sibling_stopping_reaches_the_caller()
    {
        _membership.Set(Self, SiloStatus.Active);
        _membership.Set(Other, SiloStatus.Active);
        var asked = 0;

        await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            SiloStopping.AskedAgainAfterSiblingsStop(_membership, Self, () => { asked++; return Breaks(); }, _ => Assert.Fail("asked again"), CancellationToken.None));
        Assert.Equal(1, asked);
    }

    /// <summary>
    /// The grain side is not gated by a sibling stopping: a break seen once the sibling that broke it is already shown
    /// dead (its stop finished between the break and the look) is asked again at once and answered. With the REST gate
    /// (BrokenBySiblingsStop) it reached the grain, a step after its stored write left undone.
    /// </summary>
    [Fact]
    public async Task A_grain_sides_break_seen_once_the_sibling_is_shown_dead_is_asked_again_at_once()
    {
        _membership.Set(Self, SiloStatus.Active);
        _membership.Set(Other, SiloStatus.Dead);
        var asked = 0;

        var step = SiloStopping.AskedAgainOnceStoppingSilosAreGone(_membership, Self, () => ++asked == 1 ? Breaks() : Task.FromResult(asked));

        Assert.True(step.IsCompleted, $"waited with no sibling stopping: {step.Status}");
        Assert.Equal(2, await step);
    }

    /// <summary>
    /// A crashed silo not yet declared dead (shown Active, no sibling stopping): the grain side asks once more at once,
    /// waiting for nothing, and a second break reaches the caller: no slow success, no loop.
    /// </summary>
    [Fact]
    public async Task A_grain_sides_break_by_a_crashed_silo_is_asked_once_more_and_then_reaches_the_caller()
    {
        _membership.Set(Self, SiloStatus.Active);
        _membership.Set(Other, SiloStatus.Active);
        var asked = 0;

        var step = SiloStopping.AskedAgainOnceStoppingSilosAreGone(_membership, Self, () => { asked++; return Breaks(); });

        Assert.True(step.IsCompleted, $"waited with no sibling stopping: {step.Status}");
        await Assert.ThrowsAsync<SiloUnavailableException>(() => step);
        Assert.Equal(2, asked);
    }
}
