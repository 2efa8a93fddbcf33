using System.Net;
using System.Text;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

public sealed class QueueOrderConfigurationTests
{
    /// <summary>Refused by start-up validation, with the other problems, before the host starts (ConfigurationTests runs the dll).</summary>
    [Fact]
    public async Task An_unknown_queue_order_stops_the_silo_at_start()
    {
        var error = await Assert.ThrowsAsync<MasOrleans.Silo.Configuration.InvalidConfigurationException>(() =>
            Infrastructure.SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Scheduler:QueueOrder"] = "fifo" }));
        Assert.Equal(["Scheduler__QueueOrder must be 'priority', 'sjf' or 'drf', not 'fifo'"], error.Problems);
    }

    /// <summary>
    /// The order docs/configuration.md gives Scheduler__QueueOrder, in the live silo (one queue shard, as the order holds
    /// within a shard): three pods of one priority wait for a one-CPU node, created with expected durations 600 s, none,
    /// 30 s. When the pod holding the node is deleted, `priority` (then arrival) places the first created, and `sjf`
    /// (seed 003's shortest job first: shortest expected duration, pods without one last) the 30 s one. With
    /// `Scheduler__SjfMaxWaitSeconds` at 2 and more than 2 s between the first pod's creation and the last's, the 600 s pod
    /// has waited past the bound when the room frees, and goes ahead of the shorter one (so does the one without a
    /// duration, created after it: the longest waiting goes first).
    /// </summary>
    [Theory]
    [InlineData("priority", null, "qo-600s")]
    [InlineData("sjf", null, "qo-30s")]
    [InlineData("sjf", "2", "qo-600s")]
    public async Task When_room_frees_the_waiting_pod_first_in_the_configured_order_takes_it(string order, string? sjfMaxWaitSeconds, string expected)
    {
        var settings = new Dictionary<string, string>
        {
            ["Scheduler:QueueOrder"] = order,
            ["Scheduler:QueueShards"] = "1",
            ["Scheduler:RetryCoalesceMilliseconds"] = "50",
            // Backoffs over before the room frees: a pod still backing off waits in the backoff queue, out of the order (kube's rule).
            ["Scheduler:InitialBackoffMilliseconds"] = "1",
            ["Scheduler:MaxBackoffMilliseconds"] = "1",
        };
        if (sjfMaxWaitSeconds is not null) settings["Scheduler:SjfMaxWaitSeconds"] = sjfMaxWaitSeconds;
        await using var silo = await SiloHost.StartAsync(settings: settings);
        var http = silo.Http;
        using (var node = await http.Post("/api/v1/nodes", Requests.Node("qo-a", cpu: "1", labels: new Dictionary<string, string> { ["pool"] = "qo" })))
            Assert.Equal(HttpStatusCode.Created, node.StatusCode);
        await Create(http, "qo-blocker", duration: null);
        await http.WaitFor("/api/v1/pods/qo-blocker", p => p.Phase() == "Running");
        string[] waiting = ["qo-600s", "qo-none", "qo-30s"];
        foreach (var (name, duration) in waiting.Zip(new double?[] { 600, null, 30 }))
        {
            await Create(http, name, duration);
            await http.WaitFor($"/api/v1/pods/{name}", p => p.Phase() == "Unschedulable");
            // The first pod's wait passes the bound (a lower bound on the time, however loaded the machine).
            if (sjfMaxWaitSeconds is not null && name == "qo-600s") await Task.Delay(TimeSpan.FromSeconds(3));
        }

        using (var deleted = await http.DeleteAsync("/api/v1/pods/qo-blocker"))
            Assert.True(deleted.IsSuccessStatusCode, $"{(int)deleted.StatusCode}");
        var placed = await http.WaitFor("/api/v1/nodes/qo-a", n => n.GetProperty("pods").GetArrayLength() == 1);
        Assert.Equal([expected], placed.GetProperty("pods").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("Running", (await http.WaitFor($"/api/v1/pods/{expected}", p => p.Phase() == "Running")).Phase());
    }

    /// <summary>
    /// `drf` in the live silo, through the Kubernetes surface (namespaces are Kubernetes'): the DRF paper's example
    /// (Ghodsi et al., NSDI 2011, Section 4) on one node of 9 CPUs and 18Gi. Namespace drf-a's six pods of
    /// &lt;1 CPU, 4Gi&gt; are created before drf-b's six of &lt;3 CPUs, 1Gi&gt;, all waiting while a 9-CPU pod holds the
    /// node. When it is deleted, arrival order would place four of drf-a's and one of drf-b's (16Gi, then 7 CPUs), DRF
    /// three and two: shares (0, 0) → a → (2/9, 0) → b → (2/9, 1/3) → a → (4/9, 1/3) → b → (4/9, 2/3) → a → (2/3, 2/3),
    /// all 9 CPUs taken. No sixth pod fits after either, so five on the node is the end.
    /// </summary>
    [Fact]
    public async Task Drf_interleaves_two_namespaces_by_dominant_share_not_by_arrival()
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scheduler:QueueOrder"] = "drf",
            ["Scheduler:QueueShards"] = "1",
            ["Scheduler:RetryCoalesceMilliseconds"] = "50",
            ["Scheduler:InitialBackoffMilliseconds"] = "1",
            ["Scheduler:MaxBackoffMilliseconds"] = "1",
        });
        var http = silo.Http;
        using (var node = await http.Post("/api/v1/nodes", Requests.Node("drf-node", cpu: "9", memory: "18Gi")))
            Assert.Equal(HttpStatusCode.Created, node.StatusCode);
        await CreateIn(http, "default", "drf-blocker", cpu: "9", memory: "1Gi");
        await http.WaitFor("/api/v1/pods/drf-blocker", p => p.Phase() == "Running");
        var waiting = new List<string>();
        foreach (var (ns, cpu, memory) in new[] { ("drf-a", "1", "4Gi"), ("drf-b", "3", "1Gi") })
        {
            for (var i = 0; i < 6; i++)
            {
                await CreateIn(http, ns, $"p{i}", cpu, memory);
                waiting.Add($"{ns}.p{i}");
            }
        }
        foreach (var pod in waiting) await http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Unschedulable");

        using (var deleted = await http.DeleteAsync("/api/v1/pods/drf-blocker"))
            Assert.True(deleted.IsSuccessStatusCode, $"{(int)deleted.StatusCode}");
        var placed = await http.WaitFor("/api/v1/nodes/drf-node", n => n.GetProperty("pods").GetArrayLength() == 5);
        var byNamespace = placed.GetProperty("pods").EnumerateArray().GroupBy(p => p.GetString()![..5]).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal((3, 2), (byNamespace.GetValueOrDefault("drf-a"), byNamespace.GetValueOrDefault("drf-b")));
    }

    private static async Task CreateIn(HttpClient http, string ns, string name, string cpu, string memory)
    {
        var pod = JsonSerializer.Serialize(new
        {
            apiVersion = "v1",
            kind = "Pod",
            metadata = new { name },
            spec = new
            {
                containers = new[] { new { name = "main", image = "busybox:1.36", resources = new { requests = new Dictionary<string, string> { ["cpu"] = cpu, ["memory"] = memory } } } },
            },
        });
        using var response = await http.PostAsync($"/k8s/api/v1/namespaces/{ns}/pods", new StringContent(pod, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task Create(HttpClient http, string name, double? duration)
    {
        using var response = await http.Post("/api/v1/pods", new
        {
            name,
            requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "256Mi" },
            nodeSelector = new Dictionary<string, string> { ["pool"] = "qo" },
            expectedDurationSeconds = duration,
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
