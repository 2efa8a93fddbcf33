namespace MasOrleans.Grains.Tests;

/// <summary>The system clock, shifted by <see cref="Offset"/> (a step back, another silo's clock behind, or time gone by).</summary>
internal sealed class SteppingClock : TimeProvider
{
    public TimeSpan Offset { get; set; }
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
