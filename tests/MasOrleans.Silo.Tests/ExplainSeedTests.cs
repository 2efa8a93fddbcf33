using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Explain's preemption samples its candidates as a cycle does, from the seed of the pod's queue shard
/// (Scheduler__Seed x 31 + shard), and says which. Beyond 100 potential nodes kube's DefaultPreemption tries only
/// calculateNumCandidates of them from a random offset (GetOffsetAndNumCandidates,
/// pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go; DryRunPreemption walks
/// potentialNodes[(offset + i) % n], pkg/scheduler/framework/preemption/preemption.go), so the seed decides the nominee.
/// </summary>
public sealed class ExplainSeedTests : IAsyncLifetime
{
    private const int Seed = 7, Nodes = 150;
    private SiloHost _host = null!;

    public async Task InitializeAsync() => _host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Scheduler:Seed"] = $"{Seed}",
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>
    /// A ladder: node es-i (1 cpu) holds one pod of priority i + 1, pinned by a label. A 1-cpu pod of priority 1000 fits
    /// nowhere and could free any node: 150 potential nodes, of which min(150, max(15, 100)) = 100 are tried, es-o ..
    /// es-(o+99) mod 150 for the offset o = Random(seed).Next(150), the first draw. All tie on pickOneNodeForPreemption's
    /// criteria but the second, the lowest highest-victim priority: es-o when o &lt;= 50, else es-0 (the window wraps past
    /// es-149). "es-why" hashes to shard 6 of 8 (QueueShards, FNV-1a), so its seed is 7 x 31 + 6 = 223, whose first draw
    /// of 150 is 34: es-034. Seed 0 (explain's fixed seed before) draws 108: es-000.
    /// </summary>
    [Fact]
    public async Task Explain_samples_preemption_candidates_from_the_pods_shard_seed_and_says_which()
    {
        var http = _host.Http;
        for (var i = 0; i < Nodes; i++)
        {
            var name = $"es-{i:000}";
            Assert.True((await http.Post("/api/v1/nodes", Requests.Node(name, cpu: "1", memory: "4Gi",
                labels: new Dictionary<string, string> { ["mas.test/rung"] = name }))).IsSuccessStatusCode);
        }
        for (var i = 0; i < Nodes; i++)
        {
            var response = await http.Post("/api/v1/pods", new
            {
                name = $"es-victim-{i:000}",
                requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" },
                priority = i + 1,
                nodeSelector = new Dictionary<string, string> { ["mas.test/rung"] = $"es-{i:000}" },
            });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        for (var i = 0; i < Nodes; i++)
            await http.WaitFor($"/api/v1/pods/es-victim-{i:000}", p => p.TryGetProperty("nodeName", out var node) && node.ValueKind == JsonValueKind.String, timeoutSeconds: 60);

        var explained = await http.Post("/api/v1/scheduler/explain", new
        {
            pod = new { name = "es-why", requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" }, priority = 1000 },
            policy = "kube",
        });

        Assert.Equal(HttpStatusCode.OK, explained.StatusCode);
        var explanation = await explained.Json();
        Assert.Equal(6, QueueShards.Of("es-why", 8));
        Assert.Equal(Seed * 31 + 6, explanation.GetProperty("seed").GetInt32());
        Assert.Equal("es-034", explanation.GetProperty("nominatedNode").GetString());
        Assert.Equal(["es-victim-034"], explanation.GetProperty("victims").EnumerateArray().Select(v => v.GetString()));
    }
}
