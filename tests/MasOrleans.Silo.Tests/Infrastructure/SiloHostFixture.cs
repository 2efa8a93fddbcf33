namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>One in-process silo with memory storage shared by a test class.</summary>
public sealed class MemorySiloFixture : IAsyncLifetime
{
    public SiloHost Host { get; private set; } = null!;
    public HttpClient Http => Host.Http;

    public async Task InitializeAsync() => Host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Scheduler:RetryCoalesceMilliseconds"] = "50",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
