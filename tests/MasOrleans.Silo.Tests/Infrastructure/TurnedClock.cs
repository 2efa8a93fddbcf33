namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>A clock that stands still until the test turns it: timestamps in ticks, starting at 0.</summary>
public sealed class TurnedClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Turn(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
