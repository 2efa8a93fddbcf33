using MasOrleans.Abstractions.Contracts;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>Crash recovery: state in Redis survives a SIGKILLed silo exactly.</summary>
public sealed class RestartTests() : SiloProcessTestBase("mas-restart-")
{
    [Fact]
    public async Task After_SIGKILL_and_restart_every_pod_and_node_is_exactly_as_before()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        Dictionary<string, string> podsBefore, nodesBefore;
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            var http = silo.Http;
            await http.Post("/api/v1/nodes", Requests.Node("r-a", cpu: "4", gpus: "2"));
            await http.Post("/api/v1/nodes", Requests.Node("r-b", cpu: "4", gpus: "1"));
            string?[] gpuShapes = [null, "300m", "500m", "1", "700m", "2"];
            for (var i = 0; i < 12; i++)
                await http.Post("/api/v1/pods", Requests.Pod($"r-pod-{i:00}", cpu: "500m", memory: "1Gi", gpu: gpuShapes[i % gpuShapes.Length]));
            await http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Pending") == 0 && Phases(c).GetValueOrDefault("Scheduled") == 0);
            podsBefore = await Placements(http);
            nodesBefore = await NodeAllocations(http);
            Assert.Contains(podsBefore.Values, p => p.StartsWith("Running"));
            Assert.Contains(podsBefore.Values, p => p.StartsWith("Unschedulable"));
            silo.AssertCleanLog();
            silo.Kill();
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            Assert.Equal(podsBefore, await Placements(restarted.Http));
            Assert.Equal(nodesBefore, await NodeAllocations(restarted.Http));
            // Same ports as the killed silo: Orleans notes the dead older incarnation of itself in the membership table.
            restarted.AssertCleanLog("Detected older version of myself");
        }
    }

    /// <summary>
    /// A pod's planned exit (expectedDurationSeconds) is its activation's timer. After a restart nothing activated a
    /// Running pod until someone asked for it, so a batch pod nobody looked at ran on past its time, holding its node's
    /// resources, for ever. The test reads only the cluster summary and the node, which never activate the pod.
    /// </summary>
    [Fact]
    public async Task After_a_restart_a_running_pod_exits_when_planned_without_being_asked_for()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            var http = silo.Http;
            await http.Post("/api/v1/nodes", Requests.Node("r-job-node", cpu: "4"));
            var posted = await http.Post("/api/v1/pods", new { name = "r-job", requests = new Dictionary<string, string> { ["cpu"] = "1" }, expectedDurationSeconds = 20 });
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            await http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Running") == 1);
            silo.AssertCleanLog();
            Assert.Equal(0, silo.Terminate());
            // Stopped while the pod still runs (a slow machine could have let it end first, and the restart prove nothing).
            Assert.Equal(PodPhase.Running, (await StoredCluster.ReadAsync(Redis.ConnectionString)).Pods["r-job"].Phase);
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            await restarted.Http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Succeeded") == 1, timeoutSeconds: 120);
            // The pod's phase is written before its node is released (PodGrain.Finish), so the index can count it
            // first: the node's room is waited for, and a release that never comes fails the wait.
            await restarted.Http.WaitFor("/api/v1/nodes/r-job-node", n => n.GetProperty("allocated").ToString() == "{}");
            restarted.AssertCleanLog();
        }
    }

    /// <summary>
    /// A pod's spec.activeDeadlineSeconds holds across a restart: a pod that would run until deleted, stopped with its
    /// silo before its deadline, is failed at the deadline (DeadlineExceeded) by the restarted silo without anyone asking
    /// for it, and its node's room released. The queue shards wake the Running pods whose container has a planned exit;
    /// one whose only exit was its deadline was not woken and ran on for ever.
    /// </summary>
    [Fact]
    public async Task After_a_restart_a_running_pod_fails_at_its_active_deadline_without_being_asked_for()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            var http = silo.Http;
            await http.Post("/api/v1/nodes", Requests.Node("r-deadline-node", cpu: "4"));
            var posted = await http.Post("/api/v1/pods", new { name = "r-deadline", requests = new Dictionary<string, string> { ["cpu"] = "1" }, activeDeadlineSeconds = 60 });
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            await http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Running") == 1);
            silo.AssertCleanLog();
            Assert.Equal(0, silo.Terminate());
            // Stopped while the pod still runs (a slow machine could have let the deadline pass first, and the restart prove nothing).
            Assert.Equal(PodPhase.Running, (await StoredCluster.ReadAsync(Redis.ConnectionString)).Pods["r-deadline"].Phase);
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            await restarted.Http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Failed") == 1, timeoutSeconds: 120);
            // The pod's phase is written before its node is released (PodGrain.Finish), so the index can count it
            // first: the node's room is waited for, and a release that never comes fails the wait.
            await restarted.Http.WaitFor("/api/v1/nodes/r-deadline-node", n => n.GetProperty("allocated").ToString() == "{}");
            var pod = await restarted.Http.GetJson("/api/v1/pods/r-deadline");
            Assert.Equal("DeadlineExceeded", pod.GetProperty("reason").GetString());
            restarted.AssertCleanLog();
        }
    }

    /// <summary>
    /// A pod tolerating a node's NoExecute taint for tolerationSeconds is evicted when they run out, also across a restart:
    /// kube's taint eviction controller, started afresh, plans every pod on a tainted node from its start (processPodOnNode
    /// with no scheduled eviction: startTime now, pkg/controller/tainteviction/taint_eviction.go). The plan lived in the
    /// node grain's memory only, so after a restart the pod ran on the tainted node for ever.
    /// </summary>
    [Fact]
    public async Task After_a_restart_a_pod_tolerating_a_NoExecute_taint_for_a_while_is_still_evicted()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            var http = silo.Http;
            await http.Post("/api/v1/nodes", Requests.Node("r-taint-node", cpu: "4"));
            var posted = await http.Post("/api/v1/pods", new
            {
                name = "r-tolerant",
                requests = new Dictionary<string, string> { ["cpu"] = "1" },
                tolerations = new[] { new { key = "maint", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 30 } },
            });
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            await http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Running") == 1);
            using var tainted = await http.PatchAsJsonAsync("/api/v1/nodes/r-taint-node", new { taints = new[] { new { key = "maint", effect = "NoExecute" } } });
            Assert.Equal(HttpStatusCode.OK, tainted.StatusCode);
            Assert.Equal("Running", (await http.GetJson("/api/v1/pods/r-tolerant")).Phase());
            silo.AssertCleanLog();
            Assert.Equal(0, silo.Terminate());
            // Stopped while the pod still runs (a slow machine could have let it end first, and the restart prove nothing).
            Assert.Equal(PodPhase.Running, (await StoredCluster.ReadAsync(Redis.ConnectionString)).Pods["r-tolerant"].Phase);
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            await restarted.Http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Failed") == 1, timeoutSeconds: 120);
            var pod = await restarted.Http.GetJson("/api/v1/pods/r-tolerant");
            Assert.Equal("TaintManagerEviction", pod.GetProperty("reason").GetString());
            Assert.Equal("{}", (await restarted.Http.GetJson("/api/v1/nodes/r-taint-node")).GetProperty("allocated").ToString());
            restarted.AssertCleanLog();
        }
    }

    /// <summary>
    /// A node's last telemetry time survives a graceful restart, as Kubernetes keeps a node's heartbeat time in its stored
    /// status (NodeStatus.Conditions' lastHeartbeatTime): no reading writes it, so the stop stores it. Before, a node that
    /// went NotReady after a restart showed no lastTelemetry, and /k8s its transition time as its heartbeat.
    /// </summary>
    [Fact]
    public async Task After_a_restart_a_node_still_shows_its_last_telemetry_time_also_once_NotReady()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        DateTimeOffset reported;
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort, LongGrace))
        {
            // The first reading writes the node's record (HasReported) and the time with it; the second only the stop stores.
            var first = await Report(silo.Http, "r-beat");
            reported = await ReportAgain(silo.Http, "r-beat");
            Assert.True(reported > first, $"second reading {reported:O}, first {first:O}");
            silo.AssertCleanLog();
            Assert.Equal(0, silo.Terminate());
            // Warning 1170 if the stop could not store it.
            silo.AssertCleanLog();
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort, new Dictionary<string, string> { ["Telemetry__HeartbeatGraceSeconds"] = "2" }))
        {
            Assert.Equal(reported, LastTelemetry(await restarted.Http.GetJson("/api/v1/nodes/r-beat")));
            var notReady = await restarted.Http.WaitFor("/api/v1/nodes/r-beat", n => !n.GetProperty("ready").GetBoolean(), timeoutSeconds: 60);
            Assert.Equal(reported, LastTelemetry(notReady));
            var condition = (await restarted.Http.GetJson("/k8s/api/v1/nodes/r-beat")).GetProperty("status").GetProperty("conditions")
                .EnumerateArray().Single(c => c.GetProperty("type").GetString() == "Ready");
            Assert.Equal("Unknown", condition.GetProperty("status").GetString());
            // /k8s renders microseconds, as Kubernetes' MicroTime.
            var heartbeat = DateTimeOffset.Parse(condition.GetProperty("lastHeartbeatTime").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True((heartbeat - reported).Duration() < TimeSpan.FromMilliseconds(1), $"lastHeartbeatTime {heartbeat:O}, reported {reported:O}");
            restarted.AssertCleanLog();
        }
    }

    /// <summary>A write of the node's record that happens anyway (a cordon) stores its last telemetry time, so even a SIGKILL keeps it.</summary>
    [Fact]
    public async Task After_SIGKILL_a_node_shows_the_telemetry_time_its_last_write_stored()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        DateTimeOffset reported;
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort, LongGrace))
        {
            // The second reading, which no write stored before the cordon's.
            var first = await Report(silo.Http, "r-cordoned");
            reported = await ReportAgain(silo.Http, "r-cordoned");
            Assert.True(reported > first, $"second reading {reported:O}, first {first:O}");
            using var cordoned = await silo.Http.PatchAsJsonAsync("/api/v1/nodes/r-cordoned", new { unschedulable = true });
            Assert.Equal(HttpStatusCode.OK, cordoned.StatusCode);
            silo.AssertCleanLog();
            silo.Kill();
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort, LongGrace))
        {
            var node = await restarted.Http.GetJson("/api/v1/nodes/r-cordoned");
            Assert.True(node.GetProperty("unschedulable").GetBoolean());
            Assert.Equal(reported, LastTelemetry(node));
            restarted.AssertCleanLog("Detected older version of myself");
        }
    }

    /// <summary>Long enough that the node stays Ready until the silo stops.</summary>
    private static readonly Dictionary<string, string> LongGrace = new() { ["Telemetry__HeartbeatGraceSeconds"] = "3600" };

    /// <summary>Registers the node, reports one reading, and waits until the node holds it; the reading's stamp.</summary>
    private static async Task<DateTimeOffset> Report(HttpClient http, string node)
    {
        await http.Post("/api/v1/nodes", Requests.Node(node, cpu: "4"));
        return await ReportAgain(http, node);
    }

    /// <summary>Reports one reading of a registered node and waits until the node holds it; the reading's stamp.</summary>
    private static async Task<DateTimeOffset> ReportAgain(HttpClient http, string node)
    {
        using var posted = await http.Post($"/api/v1/nodes/{node}/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.25 } });
        var at = (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("at").GetDateTimeOffset();
        await http.WaitFor($"/api/v1/nodes/{node}", n => LastTelemetry(n) == at);
        return at;
    }

    private static DateTimeOffset? LastTelemetry(JsonElement node) =>
        node.TryGetProperty("lastTelemetry", out var at) && at.ValueKind == JsonValueKind.String ? at.GetDateTimeOffset() : null;

    private static Dictionary<string, int> Phases(JsonElement cluster) =>
        cluster.GetProperty("podsByPhase").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());

    /// <summary>Per pod: phase, node and GPU devices, read from each pod (not from the index).</summary>
    private static async Task<Dictionary<string, string>> Placements(HttpClient http)
    {
        var result = new Dictionary<string, string>();
        for (var i = 0; i < 12; i++)
        {
            var pod = await http.GetJson($"/api/v1/pods/r-pod-{i:00}");
            var node = pod.TryGetProperty("nodeName", out var n) ? n.GetString() : "-";
            result[$"r-pod-{i:00}"] = $"{pod.Phase()}|{node}|{pod.GetProperty("gpuDevices")}|{pod.GetProperty("gpuMilliPerDevice")}";
        }
        return result;
    }

    private static async Task<Dictionary<string, string>> NodeAllocations(HttpClient http)
    {
        var result = new Dictionary<string, string>();
        foreach (var name in new[] { "r-a", "r-b" })
        {
            var node = await http.GetJson($"/api/v1/nodes/{name}");
            result[name] = $"{node.GetProperty("allocated")}|{node.GetProperty("gpus")}|{node.GetProperty("pods")}";
        }
        return result;
    }
}
