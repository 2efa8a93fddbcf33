using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests;

/// <summary>Grain state, clustering and stream pub-sub on a real redis-server started by the test.</summary>
public sealed class RedisStorageTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    [Fact]
    public async Task State_is_stored_as_plain_json_without_type_names_and_survives_a_clean_restart()
    {
        await using (var silo = await SiloHost.StartAsync(_redis.ConnectionString))
        {
            await silo.Http.Post("/api/v1/nodes", Requests.Node("s-node", gpus: "1"));
            await silo.Http.Post("/api/v1/pods", Requests.Pod("s-pod", gpu: "500m"));
            await silo.Http.WaitFor("/api/v1/pods/s-pod", p => p.Phase() == "Running");
        }

        using (var connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            var key = server.Keys(pattern: "*mas-node*s-node*").Single();
            var stored = await ReadValue(connection.GetDatabase(), key);
            Assert.Contains("\"spec\"", stored);
            Assert.Contains("\"nvidia.com/gpu\":\"1\"", stored);
            Assert.DoesNotContain("$type", stored);
            Assert.DoesNotContain("MasOrleans.", stored);
        }

        await using (var again = await SiloHost.StartAsync(_redis.ConnectionString))
        {
            var pod = await again.Http.GetJson("/api/v1/pods/s-pod");
            Assert.Equal("Running", pod.Phase());
            Assert.Equal("s-node", pod.GetProperty("nodeName").GetString());
            var node = await again.Http.GetJson("/api/v1/nodes/s-node");
            Assert.Equal(500, node.GetProperty("gpus")[0].GetProperty("allocatedMilli").GetInt32());
            var nodes = await again.Http.GetJson("/api/v1/nodes");
            Assert.Equal(1, nodes.GetProperty("total").GetInt32());
        }
    }

    [Fact]
    public async Task Two_silos_join_one_cluster_through_redis_and_share_state()
    {
        var clusterId = $"pair-{_redis.Port}";
        await using var first = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        await using var second = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        first.Log.Expect(SiloLog.SiblingStopped);
        Assert.Equal(HttpStatusCode.Created, (await first.Http.Post("/api/v1/nodes", Requests.Node("pair-node", cpu: "4"))).StatusCode);
        // Submitted through the other silo: the same grains answer wherever they are activated.
        for (var i = 0; i < 6; i++) await second.Http.Post("/api/v1/pods", Requests.Pod($"pair-pod-{i}", cpu: "1"));
        await first.Http.WaitFor("/api/v1/cluster", c => c.GetProperty("podsByPhase").TryGetProperty("Running", out var r) && r.GetInt32() == 4
            && c.GetProperty("podsByPhase").TryGetProperty("Unschedulable", out var u) && u.GetInt32() == 2);
        var node = await second.Http.GetJson("/api/v1/nodes/pair-node");
        Assert.Equal("4", node.GetProperty("allocated").GetProperty("cpu").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await second.Http.Post("/api/v1/nodes", Requests.Node("pair-node"))).StatusCode);
    }

    private static async Task<string> ReadValue(IDatabase db, RedisKey key) =>
        await db.KeyTypeAsync(key) == RedisType.Hash
            ? string.Join("\n", (await db.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}"))
            : (string?)await db.StringGetAsync(key) ?? "";
}
