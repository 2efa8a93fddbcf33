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
        Assert.Contains(failed, f => f.GetProperty("reason").GetString() == "Insufficient cpu");

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

    [Fact]
    public async Task Explain_says_why_nothing_fits()
    {
        await Http.Post("/api/v1/nodes", Requests.Node("ex-tiny", cpu: "1", memory: "1Gi"));
        var explanation = await (await Http.Post("/api/v1/scheduler/explain", new
        {
            pod = new { requests = new Dictionary<string, string> { ["cpu"] = "1000" } },
        })).Json();
        // Nulls are left out of responses: no chosen node at all.
        Assert.True(!explanation.TryGetProperty("chosenNode", out var chosen) || chosen.ValueKind == JsonValueKind.Null);
        Assert.Contains("Insufficient cpu", explanation.GetProperty("failureMessage").GetString());
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
