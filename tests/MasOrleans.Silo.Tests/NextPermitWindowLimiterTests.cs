using System.Threading.RateLimiting;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The rate limit's window, on a clock the test turns: 3 permits a minute. Expected waits by hand: a window starts with
/// its first permit, so a refusal 45 s after it is told 15 s, and the next window starts with the first permit after the
/// minute, not on a timer.
/// </summary>
public sealed class NextPermitWindowLimiterTests
{
    private sealed class TurnedClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Turn(TimeSpan by) => _ticks += by.Ticks;
    }

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
}
