using System.Threading.RateLimiting;
using MasOrleans.Silo.Security;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The rate limit's window, on a clock the test turns: 3 permits a minute. Expected waits by hand: a window starts with
/// its first permit, so a refusal 45 s after it is told 15 s, and the next window starts with the first permit after the
/// minute, not on a timer.
/// </summary>
public sealed class NextPermitWindowLimiterTests
{
    private static TimeSpan? RetryAfter(RateLimitLease lease) => lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;

    [Fact]
    public void A_refusal_says_the_rest_of_the_window_that_started_with_its_first_permit()
    {
        var clock = new TurnedClock();
        using var limiter = new NextPermitWindowLimiter(3, TimeSpan.FromMinutes(1), clock);
        clock.Turn(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 3; i++) Assert.True(limiter.AttemptAcquire().IsAcquired);

        clock.Turn(TimeSpan.FromSeconds(45));
        var refused = limiter.AttemptAcquire();
        Assert.Equal((false, TimeSpan.FromSeconds(15)), (refused.IsAcquired, RetryAfter(refused)));
        Assert.Null(limiter.IdleDuration);

        clock.Turn(TimeSpan.FromSeconds(14.5));
        Assert.Equal(TimeSpan.FromSeconds(0.5), RetryAfter(limiter.AttemptAcquire()));

        // The minute is over: the permits are free again (idle since), and the next permit starts the next window.
        clock.Turn(TimeSpan.FromSeconds(2.5));
        Assert.Equal(TimeSpan.FromSeconds(2), limiter.IdleDuration);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        clock.Turn(TimeSpan.FromSeconds(30));
        Assert.True(limiter.AttemptAcquire(2).IsAcquired);
        var next = limiter.AttemptAcquire();
        Assert.Equal((false, TimeSpan.FromSeconds(30)), (next.IsAcquired, RetryAfter(next)));
        var statistics = limiter.GetStatistics()!;
        Assert.Equal((0L, 3L, 5L), (statistics.CurrentAvailablePermits, statistics.TotalFailedLeases, statistics.TotalSuccessfulLeases));
    }

    /// <summary>
    /// No permit, or no window, could never grant: a refusal reached the rest of a window that never started and threw
    /// (InvalidOperationException from _windowStart!.Value) instead of the constructor refusing the limit.
    /// </summary>
    [Fact]
    public void A_limit_without_permits_or_without_a_window_is_refused_when_made()
    {
        var clock = new TurnedClock();
        Assert.Equal("permitLimit", Assert.Throws<ArgumentOutOfRangeException>(() => { using var _ = new NextPermitWindowLimiter(0, TimeSpan.FromMinutes(1), clock); }).ParamName);
        Assert.Equal("window", Assert.Throws<ArgumentOutOfRangeException>(() => { using var _ = new NextPermitWindowLimiter(1, TimeSpan.Zero, clock); }).ParamName);
    }

    /// <summary>
    /// Asking for no permit asks whether one is left, starts no window, and counts as a lease granted or refused, as
    /// FixedWindowRateLimiter.AttemptAcquireCore counts it (dotnet/runtime src/libraries/System.Threading.RateLimiting/src/
    /// System/Threading/RateLimiting/FixedWindowRateLimiter.cs: _successfulLeasesCount or _failedLeasesCount for permitCount 0).
    /// </summary>
    [Fact]
    public void Asking_for_no_permit_is_counted_and_starts_no_window()
    {
        var clock = new TurnedClock();
        using var limiter = new NextPermitWindowLimiter(1, TimeSpan.FromMinutes(1), clock);
        Assert.True(limiter.AttemptAcquire(0).IsAcquired);
        clock.Turn(TimeSpan.FromSeconds(20));
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        clock.Turn(TimeSpan.FromSeconds(20));
        // The window started with the permit, not with the question 20 s before it: 40 s are left.
        var refused = limiter.AttemptAcquire(0);
        Assert.Equal((false, TimeSpan.FromSeconds(40)), (refused.IsAcquired, RetryAfter(refused)));
        var statistics = limiter.GetStatistics()!;
        Assert.Equal((0L, 1L, 2L), (statistics.CurrentAvailablePermits, statistics.TotalFailedLeases, statistics.TotalSuccessfulLeases));
    }
}
