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
