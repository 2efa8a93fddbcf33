using MasOrleans.Abstractions.Contracts;
using MasOrleans.Silo.Tests.Infrastructure;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The stream pub-sub's rendezvous state in Redis is read back by the next silo: telemetry keeps arriving after a
/// restart, and an entry an older build wrote as (empty) JSON is replaced instead of failing every registration.
/// </summary>
public sealed class PubSubStoreRestartTests() : SiloProcessTestBase("mas-pubsub-")
{
    /// <summary>Where Orleans' Redis grain storage keeps a node's telemetry rendezvous state: service id, "state", the
    /// grain id (pubsubrendezvous/provider/namespace/key) and the grain class (RedisGrainStorage.DefaultGetStorageKey).</summary>
    private static RedisKey RendezvousKey(string node) =>
        $"mas-orleans/state/pubsubrendezvous/{TelemetryStreams.Provider}/{TelemetryStreams.Namespace}/{node}/PubSubRendezvousGrain";

    [Fact]
    public async Task Telemetry_posted_before_and_after_a_silo_is_killed_and_restarted_on_the_same_Redis_both_arrive()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            await silo.Http.Post("/api/v1/nodes", Requests.Node("ps-a"));
            await PostCpu(silo.Http, "ps-a", 0.25);
            await silo.Http.WaitFor("/api/v1/nodes/ps-a", n => Cpu(n) == 0.25);
            await using (var redis = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString))
                Assert.True(await redis.GetDatabase().KeyExistsAsync(RendezvousKey("ps-a")), "the rendezvous state is not under the key the other test writes");
            silo.AssertCleanLog();
            // Killed, not stopped: a graceful stop unregisters the producers, leaving no state to read back.
            silo.Kill();
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            await PostCpu(restarted.Http, "ps-a", 0.5);
            await restarted.Http.WaitFor("/api/v1/nodes/ps-a", n => Cpu(n) == 0.5);
            // The stop unregisters the producers the restarted silo read back, an error at shutdown too before.
            Assert.Equal(0, restarted.Terminate());
            // Same ports as the killed silo: Orleans notes the dead older incarnation of itself in the membership table, and
            // the rendezvous state read back names the killed silo's stream agent, which Orleans drops (with a warning).
            restarted.AssertCleanLog("Detected older version of myself", @"PubSubRendezvousGrain\[103406\] Producer .* is no longer active - permanently removing producer");
        }
    }

    [Fact]
    public async Task A_rendezvous_entry_an_older_build_wrote_as_JSON_reads_as_empty_and_is_replaced()
    {
        const string OlderJson = """{"producers":[{}],"consumers":[]}""";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
        var db = redis.GetDatabase();
        await db.HashSetAsync(RendezvousKey("ps-old"), [new HashEntry("etag", "older-build"), new HashEntry("data", OlderJson)]);

        using var silo = await StartSilo();
        await silo.Http.Post("/api/v1/nodes", Requests.Node("ps-old"));
        await PostCpu(silo.Http, "ps-old", 0.75);
        await silo.Http.WaitFor("/api/v1/nodes/ps-old", n => Cpu(n) == 0.75);

        var stored = await db.HashGetAllAsync(RendezvousKey("ps-old"));
        Assert.NotEqual("older-build", (string?)stored.Single(e => e.Name == "etag").Value);
        Assert.NotEqual(OlderJson, (string?)stored.Single(e => e.Name == "data").Value);
        Assert.Single(silo.Output.Split('\n'), l => l.StartsWith("info: MasOrleans.Grains.Storage.PubSubStateSerializer[1301]", StringComparison.Ordinal));
        Assert.Equal(0, silo.Terminate());
        silo.AssertCleanLog();
    }

    private static async Task PostCpu(HttpClient http, string node, double cpu)
    {
        var accepted = await http.Post($"/api/v1/nodes/{node}/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = cpu } });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
    }

    private static double? Cpu(System.Text.Json.JsonElement node) =>
        node.TryGetProperty("utilization", out var u) && u.ValueKind == System.Text.Json.JsonValueKind.Object && u.TryGetProperty("cpu", out var cpu) ? cpu.GetDouble() : null;
}
