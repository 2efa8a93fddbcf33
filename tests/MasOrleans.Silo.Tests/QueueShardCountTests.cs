using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using StackExchange.Redis;
using static MasOrleans.Silo.Tests.ConfigurationTests;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Scheduler__QueueShards across the silos of one cluster (two child-process silos on one real redis-server): a pod's
/// shard is its name's hash modulo the count, so a silo with another count looked pods up, listed and queued them in other
/// shards than its siblings. It started without a word (session 40); now it is refused, while a change made with every
/// silo stopped still starts (the record goes with the last silo stopping, as Redis judges it), and the pods that were waiting are placed by their new shards.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class QueueShardCountTests() : SiloProcessTestBase("mas-shard-count-")
{
    private const string Cluster = "shard-count";
    private const string Service = "mas-orleans";

    private static Dictionary<string, string> Settings(int shards) => new()
    {
        ["Orleans__ClusterId"] = Cluster,
        ["Scheduler__QueueShards"] = $"{shards}",
    };

    [Fact]
    public async Task A_silo_whose_shard_count_differs_from_the_running_silos_does_not_start()
    {
        string[] waiting = [.. Enumerable.Range(0, 6).Select(i => $"w-pod-{i}")];
        using (var first = await StartSilo(Settings(4)))
        {
            // Waiting when the cluster stops: no node yet.
            foreach (var pod in waiting) await first.Http.Post("/api/v1/pods", Requests.Pod(pod, cpu: "1", memory: "1Gi"));

            var env = new Dictionary<string, string>(Settings(8))
            {
                ["Storage__Provider"] = "redis",
                ["Redis__ConnectionString"] = Redis.ConnectionString,
                ["Orleans__SiloPort"] = $"{FreePorts.Next()}",
                ["Orleans__GatewayPort"] = $"{FreePorts.Next()}",
            };
            var (exitCode, output) = await SiloProcess.RunToExitAsync(WorkDir, ["--urls", $"http://127.0.0.1:{FreePorts.Next()}"], env);
            Assert.True(exitCode == ExConfig, $"exit code {exitCode}:\n{output}");
            Assert.Contains("Scheduler__QueueShards is 8, but the running silos of service 'mas-orleans' use 4 (Redis key 'mas-orleans/queue-shards')", output);
            Assert.DoesNotContain("   at ", output);

            // The same count joins; each silo holds its own lease on the record.
            using var second = await StartSilo(Settings(4));
            using var redis = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
            var db = redis.GetDatabase();
            Assert.Equal(2, await db.SortedSetLengthAsync(QueueShardRecord.MembersKey(Service)));
            // The first silo stopping while the second runs leaves the record (the second holds it); Terminate waits for the exit.
            Assert.Equal(0, first.Terminate());
            first.AssertCleanLog(SiloStopTests.GracefulStopAllowed);
            Assert.Equal("4", (string?)await db.StringGetAsync(QueueShardRecord.Key(Service)));
            Assert.Equal(1, await db.SortedSetLengthAsync(QueueShardRecord.MembersKey(Service)));
            // The last silo stopping forgets the count.
            Assert.Equal(0, second.Terminate());
            // A sibling's graceful stop, and Orleans' note of a slow stop stage: SiloStopTests' allow-list.
            second.AssertCleanLog(SiloStopTests.GracefulStopAllowed);
            Assert.False(await db.KeyExistsAsync(QueueShardRecord.Key(Service)));
            Assert.False(await db.KeyExistsAsync(QueueShardRecord.MembersKey(Service)));
        }

        // A deliberate change, every silo stopped: the pods waiting in the old shards are read from their records by the new ones.
        using var changed = await StartSilo(Settings(8));
        await changed.Http.Post("/api/v1/nodes", Requests.Node("n-0", cpu: "16", gpus: "0"));
        foreach (var pod in waiting) await changed.Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Running");
        changed.AssertCleanLog();
    }
}
