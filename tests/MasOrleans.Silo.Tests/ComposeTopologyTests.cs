using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>The two silos of the compose file, run as processes on one Redis, form one Orleans cluster.</summary>
[Collection(ComposeClusterCollection.Name)]
public sealed class ComposeTopologyTests(ComposeClusterFixture cluster)
{
    [Fact]
    public async Task Both_silos_join_one_ring()
    {
        foreach (var silo in cluster.Silos) await ComposeClusterFixture.WaitForRing(silo, 2);
    }

    /// <summary>
    /// In the container's environment the silos start without a warning. The base image's ASPNETCORE_HTTP_PORTS beside
    /// deploy/Dockerfile's ASPNETCORE_URLS had each log "Overriding HTTP_PORTS '8080' and HTTPS_PORTS ''" on every start.
    /// </summary>
    [Fact]
    public void Both_silos_start_without_warnings_in_the_containers_environment()
    {
        Assert.All(cluster.StartupWarnings, warnings => Assert.True(warnings.Count == 0, string.Join("\n", warnings)));
        Assert.Equal(2, cluster.StartupWarnings.Count);
    }

    [Fact]
    public async Task State_written_through_one_silo_is_seen_through_the_other()
    {
        var (first, second) = (cluster.Silos[0].Http, cluster.Silos[1].Http);
        Assert.True((await first.Post("/api/v1/nodes", Requests.Node("compose-node", cpu: "4"))).IsSuccessStatusCode);
        Assert.Equal("compose-node", (await second.GetJson("/api/v1/nodes/compose-node")).GetProperty("name").GetString());
        Assert.True((await second.Post("/api/v1/pods", Requests.Pod("compose-pod", cpu: "1"))).IsSuccessStatusCode);
        var seenByFirst = await first.WaitFor("/api/v1/pods/compose-pod", p => p.Phase() is "Running" or "Scheduled");
        var seenBySecond = await second.GetJson("/api/v1/pods/compose-pod");
        var placedOn = seenByFirst.GetProperty("nodeName").GetString();
        Assert.Equal(placedOn, seenBySecond.GetProperty("nodeName").GetString());
        // The node it was placed on: ScaleOutTests shares these silos and may have registered its nodes first.
        var nodeFromSecond = await second.GetJson($"/api/v1/nodes/{placedOn}");
        Assert.Contains("compose-pod", nodeFromSecond.GetProperty("pods").EnumerateArray().Select(p => p.GetString()));
    }
}

/// <summary>
/// Every silo reports the whole cluster's gauges (docs/observability.md: aggregate them with max, never sum), each from
/// its own view: a node registered, read and loaded through the other silo shows on both the same.
/// </summary>
[Collection(ComposeClusterCollection.Name)]
public sealed class ComposeClusterGaugeTests(ComposeClusterFixture cluster)
{
    [Fact]
    public async Task Both_silos_report_the_whole_clusters_gauges()
    {
        var (first, second) = (cluster.Silos[0].Http, cluster.Silos[1].Http);
        var only = new Dictionary<string, string> { ["gauges"] = "a" };
        Assert.True((await first.Post("/api/v1/nodes", Requests.Node("gauges-a", cpu: "8", labels: only))).IsSuccessStatusCode);
        Assert.True((await second.Post("/api/v1/nodes/gauges-a/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.3 } })).IsSuccessStatusCode);
        for (var i = 0; i < 2; i++)
        {
            var pod = new { name = $"gauges-pod-{i}", requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" }, nodeSelector = only };
            Assert.True((await cluster.Silos[i].Http.Post("/api/v1/pods", pod)).IsSuccessStatusCode);
            await first.WaitFor($"/api/v1/pods/gauges-pod-{i}", p => p.Phase() is "Running" or "Scheduled");
        }
        var stuck = new { name = "gauges-stuck", requests = new Dictionary<string, string> { ["cpu"] = "7" }, nodeSelector = only };
        Assert.True((await second.Post("/api/v1/pods", stuck)).IsSuccessStatusCode);
        await first.WaitFor("/api/v1/pods/gauges-stuck", p => p.Phase() is "Unschedulable");

        // Each silo samples on its own period (0.5 s here) and its view trails the nodes by milliseconds: read both until
        // they agree, then check what they agree on.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var expositions = await Task.WhenAll(cluster.Silos.Select(s => PrometheusText.Scrape(s.Http)));
            var gauges = expositions.Select(e => (
                Allocation: PrometheusText.Value(e, "mas_node_allocation_ratio", "node=\"gauges-a\"", "resource=\"cpu\""),
                Utilization: PrometheusText.Value(e, "mas_node_utilization_ratio", "node=\"gauges-a\"", "resource=\"cpu\""),
                Pending: PrometheusText.Value(e, "mas_pending_pods"),
                Ready: PrometheusText.Value(e, "mas_nodes", "state=\"ready\""),
                NotReady: PrometheusText.Value(e, "mas_nodes", "state=\"not_ready\""))).ToList();
            // 2 pods of 1 cpu on 8 cpus; the telemetry said 0.3; the stuck pod is pending, as seen through either silo.
            if (gauges[0] == gauges[1] && gauges[0].Allocation == 0.25 && gauges[0].Utilization == 0.3 && gauges[0].Pending >= 1)
                return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"the silos' gauges: {gauges[0]} and {gauges[1]}");
            await Task.Delay(250);
        }
    }
}
