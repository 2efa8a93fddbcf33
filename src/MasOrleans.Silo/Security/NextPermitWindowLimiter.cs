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
internal sealed class NextPermitWindowLimiter : RateLimiter
{
    private static readonly RateLimitLease Granted = new Lease(true, null);

    private readonly int _permitLimit;
    private readonly TimeSpan _window;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly long _created;
    private long? _windowStart;
    private int _used;
    private long _granted;
    private long _refused;

    /// <summary>
    /// At least one permit and a window longer than zero, as FixedWindowRateLimiter requires: a refusal is told the rest
    /// of the running window, and with no permit no window would ever start.
    /// </summary>
    public NextPermitWindowLimiter(int permitLimit, TimeSpan window, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permitLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _permitLimit = permitLimit;
        _window = window;
        _clock = clock;
        _created = clock.GetTimestamp();
    }

    /// <summary>How long all permits have been free: since the window ended (or, before the first, since creation).</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                var now = _clock.GetTimestamp();
                if (_windowStart is not { } start) return _clock.GetElapsedTime(_created, now);
                var elapsed = _clock.GetElapsedTime(start, now);
                return elapsed >= _window ? elapsed - _window : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = _permitLimit - UsedAt(_clock.GetTimestamp()),
                CurrentQueuedCount = 0,
                TotalSuccessfulLeases = _granted,
                TotalFailedLeases = _refused,
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, _permitLimit);
        lock (_lock)
        {
            var now = _clock.GetTimestamp();
            var used = UsedAt(now);
            // Asking for no permit only asks whether one is left (RateLimiter's contract); it starts no window, and is
            // counted as FixedWindowRateLimiter counts it.
            if (used + permitCount > _permitLimit || permitCount == 0 && used == _permitLimit)
            {
                _refused++;
                return Refusal(now);
            }
            if (used == 0 && permitCount > 0) _windowStart = now;
            _used = used + permitCount;
            _granted++;
            return Granted;
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    /// <summary>The permits taken in the window running at <paramref name="now"/>: none once it has ended.</summary>
    private int UsedAt(long now) => _windowStart is { } start && _clock.GetElapsedTime(start, now) < _window ? _used : 0;

    /// <summary>Refused until the running window ends (a refusal implies one runs, the limit being at least one permit).</summary>
    private Lease Refusal(long now) => new(false, _window - _clock.GetElapsedTime(_windowStart!.Value, now));

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
