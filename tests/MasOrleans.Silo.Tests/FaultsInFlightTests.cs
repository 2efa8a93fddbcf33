using MasOrleans.Abstractions.Contracts;
using MasOrleans.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Crashes while writes are in flight (issue 12, "faults in flight"): the silo or redis-server SIGKILLed mid-load,
/// with what Redis holds read straight from its keys at the crash and after recovery. FaultTests proves the API's
/// picture after a silo crash; these also prove what was stored, that the crash caught placements half-way (a node's
/// reservation without the pod's Running record) and that exactly those were completed where they were reserved.
/// </summary>
[Collection(HeavyTests.Name)]
// "always": every write acknowledged is in the append-only file before Redis answers, which is what "no acknowledged
// pod is lost to a redis-server kill" needs (with "everysec" Redis may answer writes it has not yet written; see
// RedisServer.Start).
public sealed class FaultsInFlightTests(ITestOutputHelper output) : SiloProcessTestBase("mas-inflight-", "always")
{
    private const int PodCount = 1200;
    private const int Clients = 32;

    /// <summary>
    /// A starved or stalled process can make queue shards miss the index's 5 s answer bound: a gauge sample then keeps
    /// the previous values, retried on its period.
    /// </summary>
    private static readonly string[] ShardsMissedTheirBound =
    [
        "ClusterGauges\\[\\d+\\] Cluster gauge sample failed; /metrics keeps the previous values",
    ];

    /// <summary>
    /// What the restarted silo may log: Orleans noting the dead older incarnation of itself (same ports), and cycles
    /// that outlived the fault settings' 5 s in-flight timeout while the silo re-activated every waiting pod at once
    /// on a starved machine (each queued again; the checks above prove none was lost or placed twice).
    /// </summary>
    private static readonly string[] AfterOwnRestart = ["Detected older version of myself", "scheduling cycle did not finish in", .. ShardsMissedTheirBound];

    [Fact]
    public async Task A_silo_SIGKILLed_mid_load_stores_every_acknowledged_pod_and_completes_each_half_made_placement_where_it_was_reserved()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        var first = await StartSilo(httpPort, siloPort, gatewayPort, FaultScenarios.Settings);
        SiloProcess? restarted = null;
        try
        {
            // Three nodes (900 cpu, 24 GPUs) for 1,200 pods: GPU devices run out, so pods also end waiting.
            await PodLoad.RegisterNodes(first.Http, "i-", count: 3);
            var load = new PodLoad("i-pod-", PodCount, Clients);
            var current = first;
            // Killed by the client that gets the 400th 202, so the other 31 clients' pods are in flight at the kill.
            var killed = load.AtAccepted(PodCount / 3, first.Kill);
            var run = load.RunAsync((_, _) => Volatile.Read(ref current).Http);
            await killed.WaitAsync(TimeSpan.FromSeconds(120));
            // Every 202 the clients saw came from a process that is now dead: each must be in Redis already.
            var acknowledged = load.Accepted.ToList();
            var atCrash = await StoredCluster.ReadAsync(Redis.ConnectionString);
            Assert.All(acknowledged, n => Assert.True(atCrash.Pods.ContainsKey(n), $"{n} got 202 but is not stored"));
            Assert.Empty(atCrash.BoundWithoutReservation());
            var halfMade = atCrash.ReservedNotRecorded();
            // Writes were in flight: pods stored but not yet placed, and placements reserved but not yet recorded.
            Assert.True(atCrash.Count(PodPhase.Pending) > 0, "the kill came after every stored pod was placed");
            Assert.True(halfMade.Count > 0, "the kill caught no placement between the node's write and the pod's");
            // A cycle queued behind a node grain's writes (appendfsync always, 32 clients) can outlast the 5 s in-flight
            // timeout of these settings before the kill, as after the restart.
            first.AssertCleanLog("scheduling cycle did not finish in");

            restarted = await StartSilo(httpPort, siloPort, gatewayPort, FaultScenarios.Settings);
            Volatile.Write(ref current, restarted);
            await run;
            await PodLoad.Settled(restarted.Http, timeoutSeconds: 120);

            var result = await ClusterInvariants.CheckAsync(restarted.Http, "i-pod-", load.Requests, ClusterInvariants.AfterSiloDeath);
            var pods = result.Pods.ToDictionary(p => p.GetProperty("name").GetString()!);
            Assert.All(load.Accepted, n => Assert.True(pods.ContainsKey(n), $"{n} got 202 and is gone"));
            Assert.All(load.ExistedAfterRetry, n => Assert.True(pods.ContainsKey(n), $"{n} was found by a retry and is gone"));
            Assert.Equal(PodCount, result.Pods.Count);
            Assert.Equal(PodCount, result.Bound + result.Count("Unschedulable"));
            await PodLoad.AssertNothingLeftThatFits(restarted.Http, "i-pod-", result, load);
            // The next cycle found each half-made placement in its node and reserved it again there (Reserve is
            // idempotent): same node, not a second copy elsewhere and not lost.
            foreach (var (node, pod) in halfMade)
            {
                Assert.True(ClusterInvariants.IsBound(pods[pod]) && pods[pod].GetProperty("nodeName").GetString() == node,
                    $"{pod} was reserved on {node} at the crash and ended {pods[pod].Phase()} on {(pods[pod].TryGetProperty("nodeName", out var n) ? n.GetString() : "no node")}");
            }
            // And Redis says the same as the API: the repair was written down, not only made in memory.
            var stored = await StoredCluster.ReadAsync(Redis.ConnectionString);
            Assert.Empty(stored.BoundWithoutReservation());
            Assert.Empty(stored.ReservedNotRecorded());
            Assert.Equal(result.Bound, stored.Count(PodPhase.Running));
            restarted.AssertCleanLog(AfterOwnRestart);
            output.WriteLine($"silo SIGKILL mid-load: {PodCount} pods submitted, {acknowledged.Count} acknowledged (202) before the kill; at the kill Redis held "
                + $"{atCrash.Pods.Count} pods ({atCrash.Count(PodPhase.Pending)} pending, {atCrash.Count(PodPhase.Running)} running, {atCrash.Count(PodPhase.Unschedulable)} unschedulable) "
                + $"and {halfMade.Count} reservations not yet recorded on their pod; after restart {load.AcceptedCount} acknowledged + {load.ExistedAfterRetry.Count} found by a retry, "
                + $"{result.Pods.Count} found, {result.Bound} placed, {result.Count("Unschedulable")} waiting; {ClusterInvariants.UsageSummary(result)}");
        }
        finally
        {
            first.Dispose();
            restarted?.Dispose();
        }
    }

    /// <summary>
    /// What the silo may log while its Redis is down and reconnecting: the client library's and Orleans' storage,
    /// membership and reminder errors, and this service's notes about the writes that failed meanwhile (each retried).
    /// </summary>
    private static readonly string[] WhileRedisIsDown =
    [
        // Grain storage: pod records that could not be read (so the grain could not activate) or written.
        "^fail: Orleans\\.Persistence\\.RedisGrainStorage\\[",
        "Lifecycle start canceled due to errors at stage 'SetupState|Error starting lifecycle for activation .*mas-pod/|Error activating grain .*mas-pod/",
        // Orleans' own Redis-backed services noticing the outage.
        "^(warn|fail): Orleans\\.(Runtime\\.MembershipService|Runtime\\.ReminderService|Clustering\\.Redis|Reminders\\.Redis)",
        // The membership table lives in that Redis: its periodic refresh and the silo's I-am-alive write wait on it,
        // which Orleans' watchdog notes (one complaint or both, and nothing but membership complaints).
        "^warn: Orleans\\.Runtime\\.Watchdog\\[\\d+\\] \\d+ of \\d+ components reported issues\\. Complaints:( Orleans\\.Runtime\\.MembershipService\\.\\w+ failed health check with complaint \"\\w+ timer should have fired [^\"]*\"\\.)+\\s*$",
        // POSTs whose pod could not be stored: answered 503 with Retry-After (PodLoad fails on any other 5xx).
        "(Unhandled exception|Answered 503) for POST /api/v1/pods",
        // Cycles whose reservation could not be written, retried; a pod's Running write retried from its timer.
        "scheduling cycle did not finish in|Scheduling cycle for pod .* failed; queued again",
        "(Caught and ignored exception thrown from timer callback|Exception during Grain method call of message OneWay).*mas-pod/",
        // A node whose binding write failed (a reservation in doubt, a release not stored) is written again from
        // memory by its timer until Redis is back.
        "Caught and ignored exception thrown from timer callback.*mas-node/",
        "Exception during Grain method call of message OneWay .*mas-node/.*\\[Orleans\\.Runtime\\.GrainTimer",
        "Node .* released pod .* but could not store the release",
        // A placed pod's activation that Orleans ends while Redis is down cannot store its placement as it stops; its node
        // holds the reservation and the pod's next cycle completes it (PodDeactivationTests). Seen once in CI's run.
        "Pod .* stopped before its placement on node .* was stored; its next cycle completes the node's reservation",
        // While the client library waits out its timeouts the thread pool can stall for seconds on this machine (Orleans'
        // health monitor reports it, above).
        .. ShardsMissedTheirBound,
    ];

    [Fact]
    public async Task Redis_SIGKILLed_mid_load_and_restarted_from_its_append_only_file_loses_no_acknowledged_pod_and_the_silo_recovers_by_itself()
    {
        var silo = await StartSilo(FaultScenarios.Settings);
        try
        {
            await PodLoad.RegisterNodes(silo.Http, "d-", count: 3);
            var load = new PodLoad("d-pod-", PodCount, Clients);
            var run = load.RunAsync((_, _) => silo.Http);
            await FaultScenarios.WaitUntil(() => load.AcceptedCount >= PodCount / 3, 120);
            Redis.Crash();
            var acknowledgedAtCrash = load.AcceptedCount;
            // Long enough for every client to hit the outage (a write fails within the client library's timeouts).
            await Task.Delay(TimeSpan.FromSeconds(3));
            var acknowledgedWhileDown = load.AcceptedCount - acknowledgedAtCrash;
            Redis.Restart();
            await run;
            await PodLoad.Settled(silo.Http, timeoutSeconds: 120);

            Assert.False(silo.HasExited, "the silo died with its Redis");
            var result = await ClusterInvariants.CheckAsync(silo.Http, "d-pod-", load.Requests, ClusterInvariants.AfterSiloDeath);
            var names = result.Pods.Select(p => p.GetProperty("name").GetString()!).ToHashSet();
            var stored = await StoredCluster.ReadAsync(Redis.ConnectionString);
            Assert.All(load.Accepted, n => Assert.True(names.Contains(n) && stored.Pods.ContainsKey(n), $"{n} got 202 and is lost (listed: {names.Contains(n)}, stored: {stored.Pods.ContainsKey(n)})"));
            Assert.All(load.ExistedAfterRetry, n => Assert.True(names.Contains(n) && stored.Pods.ContainsKey(n), $"{n} was found by a retry and is lost"));
            Assert.Equal(PodCount, result.Pods.Count);
            Assert.Equal(PodCount, result.Bound + result.Count("Unschedulable"));
            await PodLoad.AssertNothingLeftThatFits(silo.Http, "d-pod-", result, load);
            // A pod whose cycle the outage cut short after its node's write waits with that reservation; its next cycle
            // (after its backoff) completes it where it was reserved, or the node's write-again drops one in doubt.
            stored = await stored.UntilReservationsRecorded(Redis.ConnectionString, PodLoad.BackoffAllowance);
            Assert.Empty(stored.BoundWithoutReservation());
            Assert.True(stored.ReservedNotRecorded().Count == 0, $"not written down after recovery: {stored.Describe(stored.ReservedNotRecorded())}");

            // Recovered without a restart of its own: a new node and a pod after the outage are stored and placed.
            Assert.Equal(System.Net.HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("d-late", cpu: "4", gpus: "0", labels: new() { ["late"] = "yes" }))).StatusCode);
            using (var late = await silo.Http.Post("/api/v1/pods", new { name = "d-after", requests = new Dictionary<string, string> { ["cpu"] = "1" }, nodeSelector = new Dictionary<string, string> { ["late"] = "yes" } }))
                Assert.Equal(System.Net.HttpStatusCode.Accepted, late.StatusCode);
            await silo.Http.WaitFor("/api/v1/pods/d-after", p => p.Phase() == "Running" && p.GetProperty("nodeName").GetString() == "d-late", timeoutSeconds: 30);
            silo.AssertCleanLog(WhileRedisIsDown);
            output.WriteLine($"redis-server SIGKILL mid-load: {PodCount} pods submitted, {acknowledgedAtCrash} acknowledged (202) at the kill, {acknowledgedWhileDown} more in the 3 s it was down; "
                + $"{load.AcceptedCount} acknowledged in all + {load.ExistedAfterRetry.Count} found by a retry; retried as told: {load.RetriedAsToldCount} "
                + $"({string.Join(", ", load.RetriedAsTold.Select(kv => $"{kv.Key}x{kv.Value}"))}); after recovery {result.Pods.Count} found ({stored.Pods.Count} in Redis), "
                + $"{result.Bound} placed, {result.Count("Unschedulable")} waiting");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The silo's own account of the outage belongs with the failure.
            throw new Xunit.Sdk.XunitException($"{e.Message}\nsilo log, unexpected records:\n{string.Join("\n", silo.UnexpectedLogRecords(WhileRedisIsDown).Take(15))}"
                + $"\nsilo log, last lines (read at):\n{silo.Tail(60)}", e);
        }
        finally
        {
            silo.Dispose();
        }
    }
}
