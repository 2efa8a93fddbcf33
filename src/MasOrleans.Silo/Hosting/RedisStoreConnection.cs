using StackExchange.Redis;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// The per-entry stores' Redis connection, opened asynchronously while the silo starts (before any grain runs) and
/// closed when it stops. Resolving a synchronously connected multiplexer inside a grain's constructor blocked a pool
/// thread, and every other activation waiting on the same singleton, on I/O that completes on that pool.
/// </summary>
internal sealed class RedisStoreConnection(ConfigurationOptions options) : ILifecycleParticipant<ISiloLifecycle>
{
    private IConnectionMultiplexer? _redis;

    public IConnectionMultiplexer Redis =>
        _redis ?? throw new InvalidOperationException("The Redis store connection is used before the silo connected it");

    /// <summary>The connection once the silo opened it; null while it starts (the readiness check asks before grains run).</summary>
    public IConnectionMultiplexer? Opened => _redis;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RedisStoreConnection), ServiceLifecycleStage.RuntimeInitialize, Connect, Close);

    private async Task Connect(CancellationToken cancellation) =>
        _redis = await ConnectionMultiplexer.ConnectAsync(options.Clone());

    private async Task Close(CancellationToken cancellation)
    {
        // Disposed by the container, which created the IConnectionMultiplexer registration from this.
        if (_redis is not null) await _redis.CloseAsync();
    }
}
