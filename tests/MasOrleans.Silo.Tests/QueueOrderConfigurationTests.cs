using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

public sealed class QueueOrderConfigurationTests
{
    [Fact]
    public async Task An_unknown_queue_order_stops_the_silo_at_start()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            Infrastructure.SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Scheduler:QueueOrder"] = "fifo" }));
        Assert.Contains("Scheduler__QueueOrder", error.Message);
    }

    /// <summary>
    /// The order docs/configuration.md gives Scheduler__QueueOrder, in the live silo (one queue shard, as the order holds
    /// within a shard): three pods of one priority wait for a one-CPU node, created with expected durations 600 s, none,
    /// 30 s. When the pod holding the node is deleted, `priority` (then arrival) places the first created, and `sjf`
    /// (seed 003's shortest job first: shortest expected duration, pods without one last) the 30 s one.
    /// </summary>
    [Theory]
    [InlineData("priority", "qo-600s")]
    [InlineData("sjf", "qo-30s")]
    public async Task When_room_frees_the_waiting_pod_first_in_the_configured_order_takes_it(string order, string expected)
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scheduler:QueueOrder"] = order,
            ["Scheduler:QueueShards"] = "1",
            ["Scheduler:RetryCoalesceMilliseconds"] = "50",
            // Backoffs over before the room frees: a pod still backing off waits in the backoff queue, out of the order (kube's rule).
            ["Scheduler:InitialBackoffMilliseconds"] = "1",
            ["Scheduler:MaxBackoffMilliseconds"] = "1",
        });
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
        }

        using (var deleted = await http.DeleteAsync("/api/v1/pods/qo-blocker"))
            Assert.True(deleted.IsSuccessStatusCode, $"{(int)deleted.StatusCode}");
        var placed = await http.WaitFor("/api/v1/nodes/qo-a", n => n.GetProperty("pods").GetArrayLength() == 1);
        Assert.Equal([expected], placed.GetProperty("pods").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("Running", (await http.WaitFor($"/api/v1/pods/{expected}", p => p.Phase() == "Running")).Phase());
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
