using System.Net;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>POST /api/v1/scheduler/explain over real HTTP: verdicts, scores and the choice, with nothing reserved.</summary>
public sealed class ExplainApiTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Host.Log.AssertClean();

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Explain_reports_every_node_and_reserves_nothing()
    {
        await Http.Post("/api/v1/nodes", Requests.Node("ex-small", cpu: "2", memory: "8Gi"));
        await Http.Post("/api/v1/nodes", Requests.Node("ex-large", cpu: "32", memory: "128Gi", gpus: "2"));
        var before = await Http.GetJson("/api/v1/nodes/ex-large");

        var response = await Http.Post("/api/v1/scheduler/explain", new
        {
            pod = new { name = "why", requests = new Dictionary<string, string> { ["cpu"] = "4", ["memory"] = "4Gi", ["nvidia.com/gpu"] = "300m" } },
            policy = "kube",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var explanation = await response.Json();
        Assert.Equal("kube", explanation.GetProperty("policy").GetString());
        Assert.Equal("ex-large", explanation.GetProperty("chosenNode").GetString());

        var nodes = explanation.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!);
        var small = nodes["ex-small"];
        Assert.False(small.GetProperty("feasible").GetBoolean());
        var failed = small.GetProperty("filters").EnumerateArray().Where(f => !f.GetProperty("passed").GetBoolean()).ToArray();
        // Short of cpu (2 of 4) and GPUs (none): fit.go's fitsRequest keeps both reasons, joined as kube's Status.Message.
        Assert.Contains(failed, f => f.GetProperty("reason").GetString() == "Insufficient cpu, Insufficient nvidia.com/gpu");

        var large = nodes["ex-large"];
        Assert.True(large.GetProperty("feasible").GetBoolean());
        var scores = large.GetProperty("scores").EnumerateArray().ToArray();
        Assert.Contains(scores, s => s.GetProperty("plugin").GetString() == "NodeResourcesFit");
        long total = 0;
        foreach (var s in scores)
        {
            var normalized = s.GetProperty("normalizedScore").GetInt64();
            Assert.InRange(normalized, 0, 100);
            Assert.Equal(normalized * s.GetProperty("weight").GetInt32(), s.GetProperty("weightedScore").GetInt64());
            total += s.GetProperty("weightedScore").GetInt64();
        }
        Assert.Equal(total, large.GetProperty("totalScore").GetInt64());

        // Explaining reserved nothing: the node's allocation is unchanged and no pod was created.
        var after = await Http.GetJson("/api/v1/nodes/ex-large");
        Assert.Equal(before.GetProperty("allocated").ToString(), after.GetProperty("allocated").ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/api/v1/pods/why")).StatusCode);
    }

    /// <summary>The learned policies answered 500 here: Explain ran their scorer's PreScore on no feasible node.</summary>
    [Theory]
    [InlineData(null)]
    [InlineData("ddqn")]
    [InlineData("ppo")]
    public async Task Explain_says_why_nothing_fits(string? policy)
    {
        await Http.Post("/api/v1/nodes", Requests.Node("ex-tiny", cpu: "1", memory: "1Gi"));
        var response = await Http.Post("/api/v1/scheduler/explain", new
        {
            pod = new { requests = new Dictionary<string, string> { ["cpu"] = "1000" } },
            policy,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var explanation = await response.Json();
        // Nulls are left out of responses: no chosen node at all.
        Assert.True(!explanation.TryGetProperty("chosenNode", out var chosen) || chosen.ValueKind == JsonValueKind.Null);
        Assert.Contains("Insufficient cpu", explanation.GetProperty("failureMessage").GetString());
    }

    [Fact]
    public async Task Explain_shows_the_preemption_the_cycle_would_make_and_evicts_nothing()
    {
        // One 2-cpu node running a priority-100 pod of 1.5 cpu: a 1-cpu pod fits only by evicting it (kube's
        // DefaultPreemption: the lower-priority pod is the only victim that makes room), which is what the cycle did
        // when a user placed such a pod (the helper's run: "preempted on pre-a by high3"), while explain said only "0/N".
        var pool = new Dictionary<string, string> { ["pool"] = "ex-pre" };
        await Http.Post("/api/v1/nodes", Requests.Node("ex-pre-a", cpu: "2", memory: "8Gi", labels: pool));
        await Http.Post("/api/v1/pods", new { name = "ex-low", requests = new Dictionary<string, string> { ["cpu"] = "1500m" }, priority = 100, nodeSelector = pool });
        await Http.WaitFor("/api/v1/pods/ex-low", p => p.Phase() == "Running");

        async Task<JsonElement> Explain(int priority) => await (await Http.Post("/api/v1/scheduler/explain", new
        {
            pod = new { name = "ex-high", requests = new Dictionary<string, string> { ["cpu"] = "1" }, priority, nodeSelector = pool },
            policy = "kube",
        })).Json();

        var higher = await Explain(1000);
        Assert.False(higher.TryGetProperty("chosenNode", out _));
        Assert.Equal("ex-pre-a", higher.GetProperty("nominatedNode").GetString());
        Assert.Equal(["ex-low"], higher.GetProperty("victims").EnumerateArray().Select(v => v.GetString()));
        // Equal priority preempts nobody.
        var equal = await Explain(100);
        Assert.False(equal.TryGetProperty("nominatedNode", out _));
        Assert.Empty(equal.GetProperty("victims").EnumerateArray());
        // Explaining evicted nothing.
        var low = await Http.GetJson("/api/v1/pods/ex-low");
        Assert.Equal(("Running", "ex-pre-a"), (low.Phase(), low.GetProperty("nodeName").GetString()));
    }

    [Fact]
    public async Task A_policy_is_named_as_registered_whatever_its_case()
    {
        var explanation = await (await Http.Post("/api/v1/scheduler/explain", new { pod = new { requests = new Dictionary<string, string> { ["cpu"] = "1m" } }, policy = "KUBE" })).Json();
        Assert.Equal("kube", explanation.GetProperty("policy").GetString());
        // Fits no node of this shared silo: placed, it would change the allocation Explain_reports_every_node_and_reserves_nothing
        // reads before and after its explain (it did, in a fresh-clone run where this test ran first).
        await Http.Post("/api/v1/pods", new
        {
            name = "ex-upper", requests = new Dictionary<string, string> { ["cpu"] = "1m" }, policy = "FGD",
            nodeSelector = new Dictionary<string, string> { ["pool"] = "ex-none" },
        });
        var pod = await Http.GetJson("/api/v1/pods/ex-upper");
        Assert.Contains(pod.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString() == "pod accepted; waiting for policy 'fgd'");
    }

    [Theory]
    [InlineData("{\"policy\":\"kube\"}", "pod is required")]
    [InlineData("{\"pod\":{\"requests\":{\"cpu\":\"x\"}}}", "not a valid quantity")]
    [InlineData("{\"pod\":{},\"policy\":\"no-such\"}", "unknown policy")]
    public async Task Bad_explain_requests_are_400(string json, string detail)
    {
        var response = await Http.PostAsync("/api/v1/scheduler/explain", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Contains(detail, body);
    }
}
