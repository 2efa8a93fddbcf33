using System.Net;
using System.Net.Http.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>What a Redis outage leaves in a silo's memory: nothing Redis did not take.</summary>
public sealed class RedisOutageTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>What the silo logs while its Redis is down (<see cref="RedisDownLog"/>) and the failed write answered 503.</summary>
    internal static readonly string[] WhileRedisIsDown =
    [
        .. RedisDownLog.Patterns,
        "Unhandled exception for PUT /api/v1/scheduler/policy",
    ];

    /// <summary>
    /// A default policy Redis never stored was answered 503 and yet made: the index kept it in memory, so this silo
    /// scheduled with it and listed it while the other silos' views were never told, and the index's next write (a node
    /// registered) stored it after all.
    /// </summary>
    [Fact]
    public async Task A_default_policy_change_answered_503_is_not_made()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, expectedLog: WhileRedisIsDown);
        Assert.Equal("kube", await DefaultPolicy(silo.Http));
        // Every grain the silo keeps active is active (read from Redis) before the outage: the learning registries its
        // sync service asks every second, and the queue shards a pod listing merges.
        await silo.Http.WaitFor("/api/v1/learning", l => l.GetArrayLength() > 0 && l.EnumerateArray().All(a => a.GetProperty("loadedVersion").GetInt32() >= 1));
        await silo.Http.GetJson("/api/v1/pods");

        _redis.Crash();
        using (var refused = await silo.Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "fgd" }))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        _redis.Restart();

        Assert.Equal("kube", await DefaultPolicy(silo.Http));
        // The index writes again (its node list), as the next write after an outage would.
        using (var node = await Answered(() => silo.Http.Post("/api/v1/nodes", Requests.Node("outage-node"))))
            Assert.Equal(HttpStatusCode.Created, node.StatusCode);
        Assert.Equal("kube", await DefaultPolicy(silo.Http));
        // With Redis answering, the same request is made.
        using (var made = await Answered(() => silo.Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "fgd" })))
            Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        Assert.Equal("fgd", await DefaultPolicy(silo.Http));
    }

    /// <summary>
    /// A report needs no Redis for a node whose grain is active (its reading is in memory, as its heartbeat is); one for a
    /// node this silo must first read from Redis is a 503 to send again, and creates nothing: once Redis answers, an
    /// unknown node is a 404.
    /// </summary>
    [Fact]
    public async Task Telemetry_during_an_outage_is_taken_or_answered_503_and_creates_no_node()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, expectedLog:
        [
            .. WhileRedisIsDown,
            "Unhandled exception for POST /api/v1/nodes/tele-nowhere/telemetry",
            // The 503s Answered sends again while Redis comes back (the same outage's run, Warning 2002).
            "Answered 503 for POST /api/v1/nodes/tele-nowhere/telemetry",
            // Orleans' own records of the activation that could not read the node's state.
            "^Orleans\\.Grain$",
        ]);
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("tele-out"))).StatusCode);
        using (var first = await silo.Http.Post("/api/v1/nodes/tele-out/telemetry", Utilization(0.2)))
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await silo.Http.WaitFor("/api/v1/nodes/tele-out", n => Cpu(n) == 0.2);

        _redis.Crash();
        using (var known = await silo.Http.Post("/api/v1/nodes/tele-out/telemetry", Utilization(0.7)))
            Assert.Equal(HttpStatusCode.Accepted, known.StatusCode);
        await silo.Http.WaitFor("/api/v1/nodes/tele-out", n => Cpu(n) == 0.7);
        using (var unknown = await silo.Http.Post("/api/v1/nodes/tele-nowhere/telemetry", Utilization(0.7)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unknown.StatusCode);
            Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        }
        _redis.Restart();

        using (var unknown = await Answered(() => silo.Http.Post("/api/v1/nodes/tele-nowhere/telemetry", Utilization(0.7))))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.DoesNotContain((await silo.Http.GetJson("/api/v1/nodes")).GetProperty("items").EnumerateArray(), n => n.GetProperty("name").GetString() == "tele-nowhere");
    }

    /// <summary>
    /// A node that went silent while Redis was down never evicted its pods: the readiness change's write failed before the
    /// evictions were sent, and the node, NotReady from then on, never planned them again, so a pod that does not tolerate
    /// node.kubernetes.io/unreachable stayed Running on a lost node after Redis came back. The evictions are now
    /// level-triggered, as kube's taint eviction controller handles every NotReady node it sees: retried while the node
    /// stays NotReady and the pod is still on it.
    /// </summary>
    [Fact]
    public async Task A_node_that_goes_silent_during_an_outage_evicts_its_pods_once_Redis_answers()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, settings: new Dictionary<string, string>
        {
            ["Telemetry:HeartbeatGraceSeconds"] = "2",
        }, expectedLog:
        [
            .. WhileRedisIsDown,
            // The readiness change's write failing in the heartbeat check (Orleans' GrainTimer and InvokeException warnings).
            "Failed to write grain state for node grain with ID mas-node/lost-node",
        ]);
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("lost-node"))).StatusCode);
        Assert.True((await silo.Http.Post("/api/v1/pods", Requests.Pod("on-lost-node", cpu: "1"))).IsSuccessStatusCode);
        await silo.Http.WaitFor("/api/v1/pods/on-lost-node", p => p.Phase() == "Running");
        using (var report = await silo.Http.Post("/api/v1/nodes/lost-node/telemetry", Utilization(0.2)))
            Assert.Equal(HttpStatusCode.Accepted, report.StatusCode);
        await silo.Http.WaitFor("/api/v1/nodes/lost-node", n => n.TryGetProperty("lastTelemetry", out _));

        _redis.Crash();
        await silo.Http.WaitFor("/api/v1/nodes/lost-node", n => !n.GetProperty("ready").GetBoolean());
        // Down until the node's write has failed: a write sent after it is refused (the Redis client's timeout).
        using (var refused = await silo.Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "fgd" }))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        _redis.Restart();

        var evicted = await silo.Http.WaitFor("/api/v1/pods/on-lost-node", p => p.Phase() == "Failed", 30, retryUnavailable: true);
        Assert.Equal("NodeLost", evicted.GetProperty("reason").GetString());
    }

    private static object Utilization(double cpu) => new { utilization = new Dictionary<string, double> { ["cpu"] = cpu } };

    private static double? Cpu(System.Text.Json.JsonElement node) =>
        node.GetProperty("utilization").TryGetProperty("cpu", out var cpu) ? cpu.GetDouble() : null;

    /// <summary>The request sent again each second while it is answered 503 (Redis back, the silo reconnecting, within a second or so), as Retry-After tells clients.</summary>
    internal static async Task<HttpResponseMessage> Answered(Func<Task<HttpResponseMessage>> send)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable) return response;
            response.Dispose();
            Assert.True(attempt < 60, "the silo still answers 503 a minute after Redis came back");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static async Task<string?> DefaultPolicy(HttpClient http) =>
        (await http.GetJson("/api/v1/scheduler/policies")).GetProperty("defaultPolicy").GetString();
}
