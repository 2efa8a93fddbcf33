using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A restarted silo's queue shards refill their pod tables from the pods' stored states (RedisPodDirectory). Each shard
/// read every pod's state and kept its own: with 8 shards, 8 reads a pod. At 20,000 pods that was 160,000 HGETs at once,
/// and the shards answered their first listing 7-12 s after the silo said it was ready (a /api/v1/cluster in between
/// was a 503 and an Error in the log; session 42, live).
/// </summary>
public sealed class ShardRehydrationReadsTests() : SiloProcessTestBase("mas-shard-reads-")
{
    [Fact]
    public async Task A_restart_reads_each_stored_pod_once()
    {
        const int pods = 80;
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            await silo.Http.Post("/api/v1/nodes", Requests.Node("reads-node", cpu: "64"));
            for (var i = 0; i < pods; i++) await silo.Http.Post("/api/v1/pods", Requests.Pod($"reads-{i:00}", cpu: "100m", memory: "64Mi"));
            await silo.Http.WaitFor("/api/v1/cluster", c => c.GetProperty("podsByPhase").TryGetProperty("Running", out var r) && r.GetInt32() == pods);
            silo.AssertCleanLog();
            Assert.Equal(0, silo.Terminate());
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{Redis.ConnectionString},allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        await server.ConfigResetStatisticsAsync();
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            // Listing every pod needs every shard's table refilled.
            await restarted.Http.WaitFor("/api/v1/pods?limit=1000", page => page.GetProperty("items").GetArrayLength() == pods);
            var hgets = HashGetCalls(await server.InfoAsync("commandstats"));
            // Each pod's state is read once, by its own shard (80). The count is the server's: every grain the restart
            // activates (the index, the node, the learners' registry) and the Lua scripts' own HGETs add to it, so the bound
            // is below twice the pods, still far from the 8 x 80 = 640 reads of every shard reading every pod.
            Assert.True(hgets is >= pods and < 2 * pods, $"HGET calls during the restart: {hgets}, expected {pods} pod states and fewer than {pods} others");
            restarted.AssertCleanLog("Detected older version of myself");
        }
    }

    private static long HashGetCalls(IGrouping<string, KeyValuePair<string, string>>[] info) =>
        info.SelectMany(g => g).Where(kv => kv.Key == "cmdstat_hget")
            .Select(kv => long.Parse(kv.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .SingleOrDefault();
}
