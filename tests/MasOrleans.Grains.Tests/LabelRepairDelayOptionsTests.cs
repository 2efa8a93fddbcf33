namespace MasOrleans.Grains.Tests;

/// <summary>The repair's first delay is bounded at an hour (a node is asked again within it), above the 30 s its wait grows to.</summary>
public sealed class LabelRepairDelayOptionsTests
{
    [Theory]
    [InlineData(1000)]
    [InlineData(600000)]
    [InlineData(3600000)]
    public void A_first_delay_up_to_an_hour_is_accepted(double milliseconds) =>
        Assert.Empty(new SchedulerOptions { LabelRepairFirstDelayMilliseconds = milliseconds }.Problems());

    [Fact]
    public void A_first_delay_over_an_hour_is_refused() =>
        Assert.Contains("Scheduler__LabelRepairFirstDelayMilliseconds must be at most 3600000, not 3600001",
            new SchedulerOptions { LabelRepairFirstDelayMilliseconds = 3600001 }.Problems());
}
