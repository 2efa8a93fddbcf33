using System.Net;
using System.Text.Json;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

public sealed class ConcurrencyTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>
{
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
        await http.WaitFor("/api/v1/cluster", c => !c.GetProperty("podsByPhase").TryGetProperty("pending", out _)
            && !c.GetProperty("podsByPhase").TryGetProperty("scheduled", out _), timeoutSeconds: 60);

        var pods = await ListAll(http, "/api/v1/pods");
        Assert.Equal(PodCount, pods.Count);
        var placed = pods.Where(p => p.Phase() == "running").ToList();
        Assert.NotEmpty(placed);
        Assert.Contains(pods, p => p.Phase() == "unschedulable"); // the cluster really was contended

        var requestedSum = new long[ResourceNames.Count];
        foreach (var p in placed)
        {
            var pod = await http.GetJson($"/api/v1/pods/{p.GetProperty("name").GetString()}");
            Add(requestedSum, pod.GetProperty("requests"));
        }
        var allocatedSum = new long[ResourceNames.Count];
        var podsOnNodes = 0;
        foreach (var node in await ListAll(http, "/api/v1/nodes"))
        {
            var capacity = Vector(node.GetProperty("capacity"));
            var allocated = Vector(node.GetProperty("allocated"));
            for (var d = 0; d < ResourceNames.Count; d++)
                Assert.True(allocated[d] <= capacity[d], $"{node.GetProperty("name")} over capacity in {ResourceNames.NameOf((ResourceKind)d)}");
            foreach (var gpu in node.GetProperty("gpus").EnumerateArray())
            {
                var held = gpu.GetProperty("pods").EnumerateArray().Sum(h => h.GetProperty("milli").GetInt32());
                Assert.True(held <= 1000, $"{node.GetProperty("name")} GPU {gpu.GetProperty("index")} holds {held}m");
                Assert.Equal(1000 - held, gpu.GetProperty("freeMilli").GetInt32());
            }
            Add(allocatedSum, node.GetProperty("allocated"));
            podsOnNodes += node.GetProperty("pods").GetArrayLength();
        }
        Assert.Equal(requestedSum, allocatedSum);
        Assert.Equal(placed.Count, podsOnNodes);
    }

    private static async Task<List<JsonElement>> ListAll(HttpClient http, string path)
    {
        var items = new List<JsonElement>();
        string? token = null;
        do
        {
            var page = await http.GetJson(token is null ? $"{path}?limit=100" : $"{path}?limit=100&continue={token}");
            items.AddRange(page.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("name").GetString()!.StartsWith("c-")));
            token = page.TryGetProperty("continue", out var c) ? c.GetString() : null;
        } while (token is not null);
        return items;
    }

    private static long[] Vector(JsonElement quantities)
    {
        var map = quantities.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.True(ResourceVector.TryParse(map, out var v, out var error), error);
        return v.ToArray();
    }

    private static void Add(long[] sum, JsonElement quantities)
    {
        var v = Vector(quantities);
        for (var d = 0; d < sum.Length; d++) sum[d] += v[d];
    }
}
