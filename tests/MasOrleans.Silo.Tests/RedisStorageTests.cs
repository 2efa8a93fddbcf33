using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests;

/// <summary>Grain state and clustering on a real redis-server started by the test.</summary>
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

    /// <summary>How a node whose writes failed makes Redis match its memory: whatever the hash held is gone, the given entries are there.</summary>
    [Fact]
    public async Task A_node_written_again_holds_exactly_the_given_bindings_in_redis()
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var store = new RedisNodeBindingStore(connection, Options.Create(new ClusterOptions { ServiceId = "bindings-test" }));
        await store.Add("r-node", Bound("left-behind", cpuMilli: 1000));
        await store.Add("r-node", Bound("kept", cpuMilli: 1000));

        await store.Replace("r-node", [Bound("kept", cpuMilli: 2000), Bound("added", cpuMilli: 1000)]);
        var read = await store.Read("r-node");
        Assert.Equal(["added", "kept"], read.Select(b => b.Pod.Name));
        Assert.Equal(2000, read.Single(b => b.Pod.Name == "kept").Pod.Requests.CpuMilli);

        // More pods than one Lua call could take as arguments at once (unpack stops near 8,000 values).
        var many = Enumerable.Range(0, 5000).Select(i => Bound($"p-{i:0000}", cpuMilli: 10)).ToList();
        await store.Replace("r-node", many);
        Assert.Equal(many.Select(b => b.Pod.Name), (await store.Read("r-node")).Select(b => b.Pod.Name));

        await store.Replace("r-node", []);
        Assert.Empty(await store.Read("r-node"));
        Assert.False(await connection.GetDatabase().KeyExistsAsync("bindings-test/node-pods/r-node"));
    }

    /// <summary>
    /// A binding names its pod's creation time (which pod of the name it is for) and its bind time; one stored before they
    /// were kept reads as any pod of the name, bound at an unknown time.
    /// </summary>
    [Fact]
    public async Task A_binding_keeps_its_pods_creation_time_and_one_stored_without_it_still_reads()
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var store = new RedisNodeBindingStore(connection, Options.Create(new ClusterOptions { ServiceId = "incarnation-test" }));
        var created = new DateTimeOffset(2026, 12, 6, 1, 2, 3, TimeSpan.Zero).AddTicks(4567);
        var fresh = Bound("new", cpuMilli: 1000);
        var boundAt = created.AddSeconds(5);
        await store.Add("i-node", fresh with { Pod = fresh.Pod with { CreatedAt = created }, BoundAt = boundAt });
        // As the previous version wrote it: the same JSON, with no createdAt in the pod's spec nor bind time.
        var previous = JsonSerializer.Serialize(Bound("old", cpuMilli: 500), MasJson.Options);
        Assert.DoesNotContain("createdAt", previous, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("boundAt", previous, StringComparison.OrdinalIgnoreCase);
        await connection.GetDatabase().HashSetAsync("incarnation-test/node-pods/i-node", "old", previous);

        var read = await store.Read("i-node");
        Assert.Equal(created, read.Single(b => b.Pod.Name == "new").Pod.CreatedAt);
        Assert.Equal(boundAt, read.Single(b => b.Pod.Name == "new").BoundAt);
        var old = read.Single(b => b.Pod.Name == "old");
        Assert.Null(old.Pod.CreatedAt);
        Assert.Null(old.BoundAt);
        Assert.Equal(500, old.Pod.Requests.CpuMilli);
        Assert.True(PodSpec.SameIncarnation(old.Pod.CreatedAt, created));
    }

    private static BoundPod Bound(string pod, long cpuMilli) =>
        new(new PodSpec { Name = pod, Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: 1L << 30) }, GpuAllocation.None);

    [Fact]
    public async Task Two_silos_join_one_cluster_through_redis_and_share_state()
    {
        var clusterId = $"pair-{_redis.Port}";
        await using var first = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        await using var second = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        first.Log.ExpectSiblingStopped();
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
