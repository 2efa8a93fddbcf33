using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>Load spread across two silo processes on one Redis: every pod lands once and no node is over-committed.</summary>
[Collection(ComposeClusterCollection.Name)]
public sealed class ScaleOutTests(ComposeClusterFixture cluster)
{
    private const int Nodes = 6;
    private const int PodsPerNodeCapacity = 32;
    private const int Pods = 150;

    [Fact]
    public async Task Pods_submitted_through_both_silos_all_land_within_capacity()
    {
        var silos = cluster.Silos.Select(s => s.Http).ToList();
        for (var n = 0; n < Nodes; n++)
            Assert.True((await silos[n % 2].Post("/api/v1/nodes", Requests.Node($"scale-node-{n}", cpu: $"{PodsPerNodeCapacity}", memory: "256Gi"))).IsSuccessStatusCode);
        // Submit concurrently, alternating silos, so both silos' scheduler workers race for the same nodes.
        await Task.WhenAll(Enumerable.Range(0, Pods).Select(async i =>
        {
            using var response = await silos[i % 2].Post("/api/v1/pods", Requests.Pod($"scale-pod-{i:D3}", cpu: "1", memory: "1Gi"));
            Assert.True(response.IsSuccessStatusCode, $"pod {i}: {(int)response.StatusCode}");
        }));

        var placements = new Dictionary<string, string>();
        for (var i = 0; i < Pods; i++)
        {
            var pod = await silos[(i + 1) % 2].WaitFor($"/api/v1/pods/scale-pod-{i:D3}", p => p.Phase() is "Running" or "Scheduled", timeoutSeconds: 60);
            placements[pod.GetProperty("name").GetString()!] = pod.GetProperty("nodeName").GetString()!;
        }

        // The nodes, as either silo sees them, hold exactly the pods that say they are there, within capacity.
        foreach (var http in silos)
        {
            var held = new Dictionary<string, string>();
            for (var n = 0; n < Nodes; n++)
            {
                var node = await http.GetJson($"/api/v1/nodes/scale-node-{n}");
                var pods = node.GetProperty("pods").EnumerateArray().Select(p => p.GetString()!).Where(p => p.StartsWith("scale-pod-", StringComparison.Ordinal)).ToList();
                Assert.True(pods.Count <= PodsPerNodeCapacity, $"scale-node-{n} holds {pods.Count} one-cpu pods on {PodsPerNodeCapacity} cpus");
                foreach (var pod in pods) Assert.True(held.TryAdd(pod, $"scale-node-{n}"), $"{pod} is bound to two nodes");
            }
            Assert.Equal(placements.OrderBy(p => p.Key), held.OrderBy(p => p.Key));
        }
        // Every placement was counted by the silo that made it, over all its policies' series (every policy's are there
        // from the start, at 0). At least once here: that a placement counts exactly once (an abandoned cycle, a late
        // request for a bound pod) is SchedulingAttemptCountTests', on one shard where the order can be forced; this
        // compose run cannot force it. The count follows the pod's Scheduled phase by a moment: read until all are in.
        // (Which silo hosts a pod's grain, and so schedules it, is Orleans' placement choice; it is not asserted.)
        var deadline = DateTime.UtcNow.AddSeconds(30);
        double scheduled;
        while ((scheduled = await ScheduledAttempts()) < Pods && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(scheduled >= Pods, $"{scheduled} scheduled attempts for {Pods} pods: {JsonSerializer.Serialize(placements)}");
    }

    private async Task<double> ScheduledAttempts()
    {
        var scheduled = 0.0;
        foreach (var silo in cluster.Silos)
            scheduled += PrometheusText.Sum(await PrometheusText.Scrape(silo.Http), "mas_scheduling_decisions_total", "result=\"scheduled\"");
        return scheduled;
    }
}
