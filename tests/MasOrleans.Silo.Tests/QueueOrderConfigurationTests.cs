namespace MasOrleans.Silo.Tests;

public sealed class QueueOrderConfigurationTests
{
    [Fact]
    public async Task An_unknown_queue_order_stops_the_silo_at_start()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            Infrastructure.SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Scheduler:QueueOrder"] = "fifo" }));
        Assert.Contains("Scheduler__QueueOrder", error.Message);
    }
}
