using System.Net;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A workload's controller after the silo that ran it is SIGKILLed: two silos (child processes) on one real
/// redis-server, the workload's grain found on one of them through the dashboard, that one killed. Its state and its
/// reminder are in Redis, so the survivor must take its control loop over by itself, as kube's controller-manager
/// resumes a Deployment's reconciliation on the new leader: its replicas kept (their pods' records are in Redis), and
/// reconciling and autoscaling going on without anyone calling the workload.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class WorkloadFailoverTests(ITestOutputHelper output) : SiloProcessTestBase("mas-workload-failover-")
{


    private sealed record Member(SiloProcess Silo, int SiloPort);

    [Fact]
    public async Task A_workload_whose_silo_is_killed_keeps_its_replicas_and_goes_on_reconciling_and_autoscaling_on_the_survivor()
    {
        var settings = TwoSiloSettings("workload-takeover");
        var members = new List<Member>();
        try
        {
            await StartMembers(members, settings, count: 2);
            var http = members[0].Silo.Http;
            string[] nodes = ["wf-node-0", "wf-node-1"];
            await PodLoad.RegisterNodes(http, "wf-", count: nodes.Length, cpu: "8", memory: "32Gi");
            using (var created = await http.Post("/api/v1/workloads", new
            {
                name = "wf", replicas = 2,
                // At the 50% target the count holds; at 90% it asks for ceil(2 * 1.8) = 4 (HPA's rounding, Autoscaler.Decide).
                autoscale = new { minReplicas = 1, maxReplicas = 4, targetCpuUtilization = 50, scaleUpCooldownSeconds = 0, scaleDownCooldownSeconds = 3600 },
                template = new { requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" } },
            }))
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var before = await http.WaitFor("/api/v1/workloads/wf", w => w.GetProperty("readyReplicas").GetInt32() == 2, timeoutSeconds: 30);
            var replicas = before.GetProperty("pods").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToList();

            var victim = await WorkloadHost(http, members);
            var survivor = members.Single(m => m != victim);
            using var telemetry = new TelemetryPump(survivor.Silo.Http, nodes) { Cpu = 0.5 };
            victim.Silo.Kill();
            var sinceKill = System.Diagnostics.Stopwatch.StartNew();
            telemetry.Cpu = 0.9;

            // Watched through the pod listing only (the shards' tables): a call to the workload would activate it, and
            // the test is that nothing outside the cluster has to. The reminder is an hour away (TwoSiloSettings), so the
            // generous wait cannot be met by its tick (a minute at the least period) instead of the loop's revival.
            var pods = await WorkloadPods(survivor.Silo.Http, "wf-", p => p.Count(IsRunning) == 4, timeoutSeconds: 150);
            var resumedAfter = sinceKill.Elapsed;
            Assert.Equal(4, pods.Count);
            Assert.All(replicas, r => Assert.Contains(pods, p => p.GetProperty("name").GetString() == r));

            var after = await survivor.Silo.Http.GetJson("/api/v1/workloads/wf");
            Assert.Equal(4, after.GetProperty("replicas").GetInt32());
            Assert.Equal(4, after.GetProperty("readyReplicas").GetInt32());
            var scaled = (await survivor.Silo.Http.GetJson("/api/v1/workloads/wf/events")).GetProperty("items").EnumerateArray()
                .Where(e => e.GetProperty("reason").GetString() == "ScaledUp").Select(e => e.GetProperty("message").GetString()!).ToList();
            Assert.Equal(["cpu 90% vs target 50%: 2 -> 4 replica(s)"], scaled);
            // Telemetry for a node whose grain lived on the killed silo is answered 503 (with Retry-After) until the
            // silo is declared dead, as a pod's POST is.
            survivor.Silo.AssertCleanLog([.. ShardedSilosTests.AfterSiblingKilled, "(Unhandled exception|Answered 503) for POST /api/v1/nodes/wf-node-[01]/telemetry"]);
            output.WriteLine($"workload on silo port {victim.SiloPort}, killed; scaled on the survivor {resumedAfter.TotalSeconds:F0} s later; replicas {string.Join(", ", replicas)} kept; now {string.Join(", ", pods.Select(p => p.GetProperty("name").GetString()))}");
        }
        finally
        {
            foreach (var member in members) member.Silo.Dispose();
        }
    }

    /// <summary>
    /// A replica lost while its workload's silo is dead (here deleted by a client) is replaced once the silo is declared
    /// dead. The loop was a timer gone with the silo, and only the workload's reminder brought it back, at its next tick.
    /// The reminder's period here is an hour. The deleted pod reports its end to its workload (PodGrain.Deletion,
    /// PodFinished), which activates the workload as well, so the test first waits (a minute: a starved machine's
    /// membership may take tens of seconds) until the workload is active on the survivor with nothing but the revival to
    /// wake it (the dashboard's counters, which activate no grain; the pod listing goes to the shards), and only then
    /// deletes the replica and awaits its replacement (a minute). Without the revival it fails at the first wait.
    /// </summary>
    [Fact]
    public async Task A_replica_lost_while_its_workload_s_silo_is_dead_is_replaced_once_the_silo_is_declared_dead()
    {
        var settings = TwoSiloSettings("workload-revival");
        var bound = TimeSpan.FromSeconds(60);
        var members = new List<Member>();
        try
        {
            await StartMembers(members, settings, count: 2);
            var http = members[0].Silo.Http;
            await PodLoad.RegisterNodes(http, "wr-", count: 1, cpu: "8", memory: "32Gi");
            using (var created = await http.Post("/api/v1/workloads", new
            {
                name = "wr", replicas = 1,
                template = new { requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" } },
            }))
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var ready = await http.WaitFor("/api/v1/workloads/wr", w => w.GetProperty("readyReplicas").GetInt32() == 1, timeoutSeconds: 30);
            var lost = ready.GetProperty("pods").EnumerateArray().Single().GetProperty("name").GetString()!;

            var victim = await WorkloadHost(http, members);
            var survivor = members.Single(m => m != victim);
            victim.Silo.Kill();
            await AwaitRevived(survivor.Silo.Http, survivor.SiloPort);
            var replacement = await DeleteAndAwaitReplacement(survivor.Silo.Http, "wr-", lost, DateTime.UtcNow + bound);
            survivor.Silo.AssertCleanLog([.. ShardedSilosTests.AfterSiblingKilled, .. AfterDeletionMetDeadSilo(lost), SiloActivations.RefusedAfterSiloDeath]);
            output.WriteLine($"workload on silo port {victim.SiloPort}, killed; {lost} deleted; replaced by {replacement} within {bound.TotalSeconds} s");
        }
        finally
        {
            foreach (var member in members) member.Silo.Dispose();
        }
    }

    /// <summary>
    /// The same when the cluster's only silo is SIGKILLed and started again on the same Redis: its workloads' loops came
    /// back only at their reminders' next tick (a minute after the creation here), and a replica deleted after the
    /// restart waited for it. The restarted silo, the cluster's oldest, wakes every workload as it starts. As above, with
    /// the reminder's period an hour: the workload is awaited active on the restarted silo (a minute) before the replica
    /// is deleted, since the deleted pod's report to its workload would activate it too; then the replacement (a minute).
    /// </summary>
    [Fact]
    public async Task A_replica_lost_after_the_only_silo_restarted_is_replaced()
    {
        var settings = new Dictionary<string, string>(FaultScenarios.Settings)
        {
            ["Orleans__ClusterId"] = "workload-restart",
            ["Workloads__ResyncSeconds"] = "0.5",
            ["Workloads__ReminderSeconds"] = $"{HourReminder}",
            ["Dashboard__CounterUpdateIntervalMs"] = "1000",
        };
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        var first = await StartSilo(httpPort, siloPort, gatewayPort, settings);
        SiloProcess? restarted = null;
        try
        {
            await PodLoad.RegisterNodes(first.Http, "wq-", count: 1, cpu: "8", memory: "32Gi");
            using (var created = await first.Http.Post("/api/v1/workloads", new
            {
                name = "wq", replicas = 1,
                template = new { requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" } },
            }))
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var ready = await first.Http.WaitFor("/api/v1/workloads/wq", w => w.GetProperty("readyReplicas").GetInt32() == 1, timeoutSeconds: 30);
            var lost = ready.GetProperty("pods").EnumerateArray().Single().GetProperty("name").GetString()!;

            first.Kill();
            restarted = await StartSilo(httpPort, siloPort, gatewayPort, settings);
            await AwaitRevived(restarted.Http, siloPort);
            var replacement = await DeleteAndAwaitReplacement(restarted.Http, "wq-", lost, DateTime.UtcNow.AddSeconds(60));
            restarted.AssertCleanLog([.. ShardedSilosTests.AfterSiblingKilled, .. AfterDeletionMetDeadSilo(lost)]);
            output.WriteLine($"silo killed and restarted; {lost} deleted; replaced by {replacement}");
        }
        finally
        {
            first.Dispose();
            restarted?.Dispose();
        }
    }

    /// <summary>
    /// A deletion of <paramref name="pod"/> whose pod grain lived on the dead silo is answered 503 until the silo is declared
    /// dead. A node grain that lived there takes the deleted pod's release only once it is active again on the survivor:
    /// the pod asks it again each second, and the pod's shard's reconciliation leaves that release to it (it released it
    /// too, with a warning, when it came first).
    /// </summary>
    private static string[] AfterDeletionMetDeadSilo(string pod) => [$"(Unhandled exception|Answered 503) for DELETE /api/v1/pods/{pod}"];

    /// <summary>
    /// Deletes the workload's pod <paramref name="lost"/>, then waits until <paramref name="deadline"/> for the listing to
    /// show one pod of the workload, another: its replacement, whose name it returns.
    /// </summary>
    private static async Task<string> DeleteAndAwaitReplacement(HttpClient http, string prefix, string lost, DateTime deadline)
    {
        // Its pod grain may have lived on the killed silo: 503 until the silo is declared dead. A deletion the pod grain took
        // is answered within 3/4 of the call timeout, whatever waits on the dead silo; a request whose call timed out may
        // still have been delivered and done (404 when asked again).
        var unavailable = false;
        while (true)
        {
            using var deleted = await http.DeleteAsync($"/api/v1/pods/{lost}");
            if (deleted.StatusCode == HttpStatusCode.NoContent || (unavailable && deleted.StatusCode == HttpStatusCode.NotFound)) break;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, deleted.StatusCode);
            unavailable = true;
            Assert.True(DateTime.UtcNow < deadline, $"{lost} could not be deleted by {deadline:HH:mm:ss}");
            await Task.Delay(250);
        }
        var pods = await WorkloadPods(http, prefix, p => p.Count == 1 && p[0].GetProperty("name").GetString() != lost,
            timeoutSeconds: Math.Max(1, (int)(deadline - DateTime.UtcNow).TotalSeconds));
        return pods[0].GetProperty("name").GetString()!;
    }

    /// <summary>A workload reminder's period that no test waits out: within a test, only the revival or a call wakes a workload.</summary>
    private const int HourReminder = 3600;

    /// <summary>
    /// Fault settings for a workload test of two silos: a fast resync, the reminder an hour away, and dashboard counters
    /// fresh enough to find the workload's silo.
    /// </summary>
    private static Dictionary<string, string> TwoSiloSettings(string clusterId) => new(FaultScenarios.Settings)
    {
        ["Orleans__ClusterId"] = clusterId,
        ["Workloads__ResyncSeconds"] = "0.5",
        ["Workloads__ReminderSeconds"] = $"{HourReminder}",
        ["Dashboard__CounterUpdateIntervalMs"] = "1000",
    };

    /// <summary>Starts <paramref name="count"/> silos into <paramref name="members"/> (the caller disposes them, also those started before a failure).</summary>
    private async Task StartMembers(List<Member> members, Dictionary<string, string> settings, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var siloPort = FreePorts.Next();
            members.Add(new Member(await StartSilo(FreePorts.Next(), siloPort, FreePorts.Next(), settings), siloPort));
        }
    }

    private static bool IsRunning(JsonElement pod) => pod.Phase() == "Running";

    /// <summary>The member whose silo holds the workload grain's activation, as the dashboard reports it.</summary>
    private static async Task<Member> WorkloadHost(HttpClient http, IReadOnlyList<Member> members)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var hosts = new List<Member>();
            foreach (var member in members)
                if (await SiloActivations.Count(http, "WorkloadGrain", member.SiloPort) > 0) hosts.Add(member);
            if (hosts.Count == 1) return hosts[0];
            Assert.True(DateTime.UtcNow < deadline, $"the workload is active on {hosts.Count} silos");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Waits (a minute) until the workload grain is active on the silo at <paramref name="siloPort"/>, as the dashboard
    /// counts it: asked before anything else could call the workload, only <c>WorkloadRevival</c> can have woken it.
    /// </summary>
    private static async Task AwaitRevived(HttpClient http, int siloPort)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await SiloActivations.CountAfterSiloDeath(http, "WorkloadGrain", siloPort) is not ({ } count, _) || count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no workload active on silo port {siloPort} within 60 s: nothing woke it");
            await Task.Delay(250);
        }
    }

    /// <summary>The pods listed under <paramref name="prefix"/>, once <paramref name="condition"/> holds; a listing the dead silo's shards cannot answer yet is asked again.</summary>
    private static async Task<List<JsonElement>> WorkloadPods(HttpClient http, string prefix, Func<List<JsonElement>, bool> condition, int timeoutSeconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        var pods = new List<JsonElement>();
        while (true)
        {
            using (var response = await http.GetAsync("/api/v1/pods?limit=1000"))
            {
                if (response.IsSuccessStatusCode)
                {
                    pods = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("items").EnumerateArray()
                        .Where(p => p.GetProperty("name").GetString()!.StartsWith(prefix, StringComparison.Ordinal)).ToList();
                    if (condition(pods)) return pods;
                }
            }
            Assert.True(DateTime.UtcNow < deadline,
                $"after {timeoutSeconds} s the workload's pods are {string.Join(", ", pods.Select(p => $"{p.GetProperty("name").GetString()} {p.Phase()}"))}");
            await Task.Delay(250);
        }
    }
}
