using System.Threading.RateLimiting;

namespace MasOrleans.Silo.Security;

/// <summary>
/// A fixed window of permits per caller whose refusal says when the caller's next permit comes: the rest of the window
/// (<see cref="MetadataName.RetryAfter"/>). .NET's FixedWindowRateLimiter says the whole window however little is left
/// of it (FixedWindowRateLimiter.CreateFailedWindowLease: Window × the windows needed, dotnet/runtime
/// src/libraries/System.Threading.RateLimiting), and its windows turn on a timer of its own a refusal cannot read.
/// A window starts with the first permit taken after the last one ended; no queue (a refused request is answered at once)
/// and no timer.
/// </summary>
internal sealed class NextPermitWindowLimiter(int permitLimit, TimeSpan window, TimeProvider clock) : RateLimiter
{
    private static readonly RateLimitLease Granted = new Lease(true, null);

    private readonly Lock _lock = new();
    private readonly long _created = clock.GetTimestamp();
    private long? _windowStart;
    private int _used;
    private long _granted;
    private long _refused;

    /// <summary>How long all permits have been free: since the window ended (or, before the first, since creation).</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                var now = clock.GetTimestamp();
                if (_windowStart is not { } start) return clock.GetElapsedTime(_created, now);
                var elapsed = clock.GetElapsedTime(start, now);
                return elapsed >= window ? elapsed - window : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = permitLimit - UsedAt(clock.GetTimestamp()),
                CurrentQueuedCount = 0,
                TotalSuccessfulLeases = _granted,
                TotalFailedLeases = _refused,
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, permitLimit);
        lock (_lock)
        {
            var now = clock.GetTimestamp();
            var used = UsedAt(now);
            // Asking for no permit only asks whether one is left (RateLimiter's contract); it starts no window.
            if (permitCount == 0) return used < permitLimit ? Granted : Refusal(now);
            if (used + permitCount > permitLimit)
            {
                _refused++;
                return Refusal(now);
            }
            if (used == 0) _windowStart = now;
            _used = used + permitCount;
            _granted++;
            return Granted;
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    /// <summary>The permits taken in the window running at <paramref name="now"/>: none once it has ended.</summary>
    private int UsedAt(long now) => _windowStart is { } start && clock.GetElapsedTime(start, now) < window ? _used : 0;

    /// <summary>Refused until the running window ends (a refusal implies one runs: a limit of at least one permit).</summary>
    private Lease Refusal(long now) => new(false, window - clock.GetElapsedTime(_windowStart!.Value, now));

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
