namespace MasOrleans.Grains.Tests;

/// <summary>The repair's first delay is bounded at 10 minutes (below the 15 min collection age a wait must stay under), above the 30 s its wait grows to.</summary>
public sealed class LabelRepairDelayOptionsTests
{
    [Theory]
    [InlineData(1000)]
    [InlineData(600000)]
    public void A_first_delay_up_to_ten_minutes_is_accepted(double milliseconds) =>
        Assert.Empty(new SchedulerOptions { LabelRepairFirstDelayMilliseconds = milliseconds }.Problems());

    [Fact]
    public void A_first_delay_over_ten_minutes_is_refused() =>
        Assert.Contains("Scheduler__LabelRepairFirstDelayMilliseconds must be at most 600000, not 600001",
            new SchedulerOptions { LabelRepairFirstDelayMilliseconds = 600001 }.Problems());
}
