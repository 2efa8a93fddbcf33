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
/// deleted at once; one that tolerates every such taint without tolerationSeconds stays).
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
