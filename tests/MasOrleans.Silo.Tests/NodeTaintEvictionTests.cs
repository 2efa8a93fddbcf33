using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>One silo whose nodes go NotReady 2 s after their last telemetry; only the nodes a test reports for ever expire.</summary>
public sealed class NodeTaintEvictionFixture : IAsyncLifetime
{
    public const double GraceSeconds = 2;

    public SiloHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Telemetry:HeartbeatGraceSeconds"] = $"{GraceSeconds}",
        ["Scheduler:RetryCoalesceMilliseconds"] = "50",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>
/// NoExecute taints evict the pods already on a node that do not tolerate them, as Kubernetes' taint eviction controller
/// does (pkg/controller/tainteviction/taint_eviction.go: a pod with no matching toleration for a NoExecute taint is
/// deleted at once; one that tolerates every such taint without tolerationSeconds stays; one with tolerationSeconds stays
/// that long, unless the taint goes first). A node that stops reporting is treated as Kubernetes' node lifecycle
/// controller treats an unreachable node: the node.kubernetes.io/unreachable NoExecute taint
/// (pkg/controller/nodelifecycle/node_lifecycle_controller.go), so a pod tolerating it stays, for as long as it tolerates it.
/// </summary>
public sealed class NodeTaintEvictionTests(NodeTaintEvictionFixture fixture) : IClassFixture<NodeTaintEvictionFixture>, IDisposable
{
    public void Dispose() => fixture.Host.Log.AssertClean();

    private HttpClient Http => fixture.Host.Http;

    [Fact]
    public async Task A_NoExecute_taint_evicts_the_pods_on_the_node_that_do_not_tolerate_it_and_only_those()
    {
        await Node("nx-a");
        await Pod("nx-plain", "nx-a");
        await Pod("nx-tolerant", "nx-a", new { key = "maint", @operator = "Exists", effect = "NoExecute" });
        await Pod("nx-any-effect", "nx-a", new { key = "maint", @operator = "Equal", value = "x" });
        await Pod("nx-noschedule-only", "nx-a", new { key = "maint", @operator = "Exists", effect = "NoSchedule" });
        await Pod("nx-other-value", "nx-a", new { key = "maint", @operator = "Equal", value = "y", effect = "NoExecute" });
        string[] all = ["nx-plain", "nx-tolerant", "nx-any-effect", "nx-noschedule-only", "nx-other-value"];
        foreach (var pod in all) await Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Running");

        // NoSchedule and PreferNoSchedule only keep new pods off: nothing already running leaves.
        await Taint("nx-a", new { key = "maint", value = "x", effect = "NoSchedule" }, new { key = "soft", effect = "PreferNoSchedule" });
        await Task.Delay(500);
        foreach (var pod in all) Assert.Equal("Running", (await Http.GetJson($"/api/v1/pods/{pod}")).Phase());

        await Taint("nx-a", new { key = "maint", value = "x", effect = "NoExecute" });
        string[] evicted = ["nx-plain", "nx-noschedule-only", "nx-other-value"];
        foreach (var pod in evicted)
        {
            var failed = await Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Failed");
            Assert.Equal("TaintManagerEviction", failed.GetProperty("reason").GetString());
            Assert.Contains(failed.GetProperty("events").EnumerateArray(),
                e => e.GetProperty("message").GetString()!.Contains("taint maint=x:NoExecute on node nx-a is not tolerated"));
        }
        await AssertRunningOn("nx-a", "nx-tolerant", "nx-any-effect");
        var node = await Http.WaitFor("/api/v1/nodes/nx-a", n => n.GetProperty("pods").GetArrayLength() == 2);
        Assert.Equal(["nx-any-effect", "nx-tolerant"], node.GetProperty("pods").EnumerateArray().Select(p => p.GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_node_that_stops_reporting_keeps_the_pods_that_tolerate_the_unreachable_taint()
    {
        await Node("nu-a");
        await Pod("nu-plain", "nu-a");
        await Pod("nu-tolerant", "nu-a", new { key = "node.kubernetes.io/unreachable", @operator = "Exists", effect = "NoExecute" });
        await Pod("nu-everything", "nu-a", new { @operator = "Exists" });
        await Pod("nu-not-ready-only", "nu-a", new { key = "node.kubernetes.io/not-ready", @operator = "Exists", effect = "NoExecute" });
        // What Kubernetes' DefaultTolerationSeconds admission gives every pod (300 s), shortened.
        await Pod("nu-for-a-while", "nu-a", new { key = "node.kubernetes.io/unreachable", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 3 });
        string[] all = ["nu-plain", "nu-tolerant", "nu-everything", "nu-not-ready-only", "nu-for-a-while"];
        foreach (var pod in all) await Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Running");

        using (var reading = await Http.Post("/api/v1/nodes/nu-a/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.2 } }))
            Assert.Equal(HttpStatusCode.Accepted, reading.StatusCode);
        await Http.WaitFor("/api/v1/nodes/nu-a", n => !n.GetProperty("ready").GetBoolean(), timeoutSeconds: 30);

        foreach (var pod in new[] { "nu-plain", "nu-not-ready-only" })
            Assert.Equal("NodeLost", (await Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Failed")).GetProperty("reason").GetString());
        // The evictions went out together: half a second on, the tolerating pods are still running (they were evicted too).
        await Task.Delay(500);
        await AssertRunningOn("nu-a", "nu-tolerant", "nu-everything", "nu-for-a-while");
        var notReady = Assert.Single((await Http.GetJson("/api/v1/nodes/nu-a/events")).GetProperty("items").EnumerateArray(),
            e => e.GetProperty("reason").GetString() == "NodeNotReady");
        Assert.Contains("evicting 2 pod(s) that do not tolerate node.kubernetes.io/unreachable:NoExecute, 1 more when their tolerationSeconds run out",
            notReady.GetProperty("message").GetString());
        // Its 3 s run out while the node is still silent.
        Assert.Equal("NodeLost", (await Http.WaitFor("/api/v1/pods/nu-for-a-while", p => p.Phase() == "Failed")).GetProperty("reason").GetString());
        await AssertRunningOn("nu-a", "nu-tolerant", "nu-everything");

        // kubectl sees what a Kubernetes node that stopped posting status shows: Ready Unknown, NodeStatusUnknown
        // (pkg/controller/nodelifecycle/node_lifecycle_controller.go, tryUpdateNodeHealth), STATUS NotReady.
        Assert.Equal("Unknown NodeStatusUnknown Kubelet stopped posting node status.",
            await Kubectl("get", "node", "nu-a", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.status.conditions[?(@.type==\"Ready\")].reason} {.status.conditions[?(@.type==\"Ready\")].message}"));
        Assert.Contains("nu-a   NotReady", await Kubectl("get", "node", "nu-a"));

        // Back: the pods that stayed are still there, on the node, Running.
        using (var reading = await Http.Post("/api/v1/nodes/nu-a/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.2 } }))
            Assert.Equal(HttpStatusCode.Accepted, reading.StatusCode);
        var back = await Http.WaitFor("/api/v1/nodes/nu-a", n => n.GetProperty("ready").GetBoolean());
        Assert.Equal(["nu-everything", "nu-tolerant"], back.GetProperty("pods").EnumerateArray().Select(p => p.GetString()!).Order(StringComparer.Ordinal));
        await AssertRunningOn("nu-a", "nu-tolerant", "nu-everything");
    }

    [Fact]
    public async Task A_NoExecute_taint_tolerated_for_a_while_evicts_when_the_time_runs_out_unless_the_taint_went_first()
    {
        await Node("nt-a");
        await Node("nt-b");
        await Pod("nt-short", "nt-a", new { key = "maint", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 4 });
        await Pod("nt-zero", "nt-a", new { key = "maint", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 0 });
        await Pod("nt-removed-first", "nt-b", new { key = "maint", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 5 });
        foreach (var pod in new[] { "nt-short", "nt-zero", "nt-removed-first" }) await Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Running");

        await Taint("nt-a", new { key = "maint", effect = "NoExecute" });
        await Taint("nt-b", new { key = "maint", effect = "NoExecute" });
        // 0 (or less) is no time at all (getMinTolerationTime); 4 s are not up yet.
        Assert.Equal("TaintManagerEviction", (await Http.WaitFor("/api/v1/pods/nt-zero", p => p.Phase() == "Failed")).GetProperty("reason").GetString());
        await AssertRunningOn("nt-a", "nt-short");
        await Taint("nt-b");
        // A pod placed on the tainted node afterwards (it tolerates the taint) gets its own time from then on.
        await Pod("nt-late", "nt-a", new { key = "maint", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 2 });
        await Http.WaitFor("/api/v1/pods/nt-late", p => p.Phase() == "Running");

        var started = DateTime.UtcNow;
        foreach (var (pod, seconds) in new[] { ("nt-short", 4), ("nt-late", 2) })
        {
            var failed = await Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Failed");
            Assert.Equal("TaintManagerEviction", failed.GetProperty("reason").GetString());
            // It was tolerated, for a while: the event says so rather than that the taint is not tolerated.
            Assert.Equal($"taint maint:NoExecute on node nt-a was tolerated for {seconds} s (tolerationSeconds), which ran out",
                failed.GetProperty("events").EnumerateArray().Last().GetProperty("message").GetString());
        }
        // The taint on nt-b went before its 5 s ran out: the pod stays (kube cancels the eviction).
        await Task.Delay(TimeSpan.FromSeconds(7) - (DateTime.UtcNow - started));
        await AssertRunningOn("nt-b", "nt-removed-first");

        // Kubernetes' rule for the field: only a NoExecute taint is tolerated for a while.
        using var refused = await Http.Post("/api/v1/pods", new
        {
            name = "nt-refused",
            requests = new Dictionary<string, string> { ["cpu"] = "500m" },
            tolerations = new[] { new { key = "maint", @operator = "Exists", effect = "NoSchedule", tolerationSeconds = 5 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("effect must be 'NoExecute' when `tolerationSeconds` is set", await refused.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// kube's taint eviction controller cancels a pod's scheduled eviction once no NoExecute taint is left on its node
    /// (taint_eviction.go processPodOnNode: no taints, cancelWorkWithEvent), so a taint put back later counts the
    /// pod's tolerationSeconds from then: here 8 s from the second taint, not what was left of the first one's.
    /// </summary>
    [Fact]
    public async Task A_NoExecute_taint_put_back_after_it_went_counts_the_toleration_afresh()
    {
        await Node("nr-a");
        await Pod("nr-pod", "nr-a", new { key = "maint", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 8 });
        await Http.WaitFor("/api/v1/pods/nr-pod", p => p.Phase() == "Running");

        var first = DateTime.UtcNow;
        await Taint("nr-a", new { key = "maint", effect = "NoExecute" });
        await Task.Delay(TimeSpan.FromSeconds(1));
        await Taint("nr-a");
        await Task.Delay(TimeSpan.FromSeconds(5) - (DateTime.UtcNow - first));
        var again = DateTime.UtcNow;
        await Taint("nr-a", new { key = "maint", effect = "NoExecute" });

        // The first taint's 8 s ended at first + 8 s (about 3 s after the second taint), the second's end at again + 8 s.
        await Task.Delay(TimeSpan.FromSeconds(6) - (DateTime.UtcNow - again));
        await AssertRunningOn("nr-a", "nr-pod");
        Assert.Equal("TaintManagerEviction", (await Http.WaitFor("/api/v1/pods/nr-pod", p => p.Phase() == "Failed")).GetProperty("reason").GetString());
        Assert.True(DateTime.UtcNow - again >= TimeSpan.FromSeconds(8), $"evicted {(DateTime.UtcNow - again).TotalSeconds:0.0} s after the second taint");
    }

    /// <summary>
    /// A pod that leaves the node takes its timed eviction with it (kube's taint eviction controller cancels a deleted
    /// pod's work, handlePodUpdate): a new pod of the same name placed there later gets its own tolerationSeconds.
    /// </summary>
    [Fact]
    public async Task A_pod_deleted_before_its_tolerationSeconds_ran_out_leaves_no_eviction_for_a_new_pod_of_its_name()
    {
        await Node("nq-a");
        await Taint("nq-a", new { key = "maint", effect = "NoExecute" });
        var toleration = new { key = "maint", @operator = "Exists", effect = "NoExecute", tolerationSeconds = 8 };
        await Pod("nq-pod", "nq-a", toleration);
        await Http.WaitFor("/api/v1/pods/nq-pod", p => p.Phase() == "Running");
        var first = DateTime.UtcNow;
        using (var deleted = await Http.DeleteAsync("/api/v1/pods/nq-pod"))
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE: {(int)deleted.StatusCode}");
        await Http.WaitFor("/api/v1/nodes/nq-a", n => n.GetProperty("pods").GetArrayLength() == 0);

        await Task.Delay(TimeSpan.FromSeconds(4) - (DateTime.UtcNow - first));
        await Pod("nq-pod", "nq-a", toleration);
        await Http.WaitFor("/api/v1/pods/nq-pod", p => p.Phase() == "Running");
        var second = DateTime.UtcNow;

        // The first pod's 8 s ended about 4 s after the second was placed; the second's end 8 s after its placement.
        await Task.Delay(TimeSpan.FromSeconds(6) - (DateTime.UtcNow - second));
        await AssertRunningOn("nq-a", "nq-pod");
        Assert.Equal("TaintManagerEviction", (await Http.WaitFor("/api/v1/pods/nq-pod", p => p.Phase() == "Failed")).GetProperty("reason").GetString());
    }

    /// <summary>The real kubectl against this silo's Kubernetes surface (plain http, no API key), its output.</summary>
    private async Task<string> Kubectl(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[$"--server={new Uri(Http.BaseAddress!, "/k8s")}", "--kubeconfig=/dev/null", .. args]) info.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', args)} exited {process.ExitCode}: {error}");
        return await output;
    }

    private async Task AssertRunningOn(string node, params string[] pods)
    {
        foreach (var pod in pods)
        {
            var view = await Http.GetJson($"/api/v1/pods/{pod}");
            Assert.True((view.Phase(), view.GetProperty("nodeName").GetString()) == ("Running", node), $"{pod}: {view}");
        }
    }

    private async Task Node(string name)
    {
        using var r = await Http.Post("/api/v1/nodes", Requests.Node(name, labels: new Dictionary<string, string> { ["host"] = name }));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }

    private async Task Pod(string name, string node, params object[] tolerations)
    {
        using var r = await Http.Post("/api/v1/pods", new
        {
            name,
            requests = new Dictionary<string, string> { ["cpu"] = "500m", ["memory"] = "256Mi" },
            nodeSelector = new Dictionary<string, string> { ["host"] = node },
            tolerations,
        });
        Assert.True(r.StatusCode == HttpStatusCode.Accepted, await r.Content.ReadAsStringAsync());
    }

    private async Task Taint(string node, params object[] taints)
    {
        using var r = await Http.PatchAsJsonAsync($"/api/v1/nodes/{node}", new { taints });
        Assert.True(r.StatusCode == HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
    }
}
