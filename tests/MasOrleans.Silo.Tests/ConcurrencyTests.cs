using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

public sealed class ConcurrencyTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Host.Log.AssertClean();

    [Fact]
    public Task Hundreds_of_pods_at_once_never_overcommit_and_allocations_equal_scheduled_requests() =>
        ConcurrencyScenario.RunAsync(fixture.Http);
}

/// <summary>The same race with Redis storage, whose slower writes widen every window between view and reservation.</summary>
public sealed class RedisConcurrencyTests : IAsyncLifetime
{
    private readonly RedisServer _redis = RedisServer.Start();
    private SiloHost _silo = null!;

    public async Task InitializeAsync() => _silo = await SiloHost.StartAsync(_redis.ConnectionString);

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _redis.Dispose();
    }

    [Fact]
    public Task Hundreds_of_pods_at_once_on_redis_never_overcommit() => ConcurrencyScenario.RunAsync(_silo.Http);
}

/// <summary>Many schedulers racing for a small cluster must never over-commit a node or a GPU device.</summary>
internal static class ConcurrencyScenario
{
    private const int PodCount = 300;

    public static async Task RunAsync(HttpClient http)
    {
        for (var n = 0; n < 3; n++) await http.Post("/api/v1/nodes", Requests.Node($"c-node-{n}", cpu: "16", memory: "64Gi", gpus: "4"));
        string?[] gpuShapes = [null, "250m", "500m", "1", "300m", "2", "700m"];
        var submissions = Enumerable.Range(0, PodCount).Select(async i =>
        {
            using var response = await http.Post("/api/v1/pods", Requests.Pod($"c-pod-{i:000}", cpu: "500m", memory: "2Gi", gpu: gpuShapes[i % gpuShapes.Length]));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });
        await Task.WhenAll(submissions);
        await http.WaitFor("/api/v1/cluster", c => !c.GetProperty("podsByPhase").TryGetProperty("Pending", out _)
            && !c.GetProperty("podsByPhase").TryGetProperty("Scheduled", out _), timeoutSeconds: 60);

        var result = await ClusterInvariants.CheckAsync(http, "c-");
        Assert.Equal(PodCount, result.Pods.Count);
        Assert.NotEqual(0, result.Count("Running"));
        Assert.NotEqual(0, result.Count("Unschedulable")); // the cluster really was contended
    }
}
