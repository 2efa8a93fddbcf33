using System.Net;
using System.Text;
using System.Text.Json;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// `kubectl top node` over the nodes' telemetry (metrics.k8s.io NodeMetrics). It said "error: Metrics API not available".
/// Expected columns by hand from kubectl v0.32.0 pkg/metricsutil/metrics_printer.go: CPU in millicores ("%vm"), memory in
/// whole MiB ("%vMi", Value()/(1024*1024)), each percentage int64(usage milli / allocatable milli * 100), and a node
/// the metrics API has nothing for printed as &lt;unknown&gt; in every column.
/// </summary>
public sealed class KubectlTopTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private async Task Report(string node, string utilization)
    {
        var response = await kube.Http.PostAsync($"../api/v1/nodes/{node}/telemetry", new StringContent("{\"utilization\":{" + utilization + "}}", Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static string[][] Rows(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();

    [Fact]
    public async Task Kubectl_top_node_shows_each_nodes_reported_usage_against_its_capacity()
    {
        // 32 cores and 128Gi: half the CPU is 16000m (50%), a quarter of the memory 32Gi = 32768Mi (25%).
        (await kube.Run("apply", "-f", kube.Manifest("top-a", KubeManifests.Node("top-a", "top", cpu: "32").Replace("64Gi", "128Gi")))).Succeeded();
        // 16 cores and 64Gi at 0.3 and 0.7: 4800m (30%), 45875.2Mi printed whole as 45875Mi (70%).
        (await kube.Run("apply", "-f", kube.Manifest("top-b", KubeManifests.Node("top-b", "top")))).Succeeded();
        // Reports a GPU's use only: no cpu and memory reading, so no metrics.
        (await kube.Run("apply", "-f", kube.Manifest("top-c", KubeManifests.Node("top-c", "top")))).Succeeded();
        // Never reports.
        (await kube.Run("apply", "-f", kube.Manifest("top-d", KubeManifests.Node("top-d", "top")))).Succeeded();
        await Report("top-a", "\"cpu\":0.5,\"memory\":0.25");
        await Report("top-b", "\"cpu\":0.3,\"memory\":0.7");
        await Report("top-c", "\"nvidia.com/gpu\":0.9");

        // The readings reach the silo's view a moment after they are answered; until one does, kubectl says "metrics not available yet".
        KubectlResult top = null!;
        string[][] rows = [];
        for (var i = 0; i < 100; i++)
        {
            top = await kube.Run("top", "node", "-l", "test=top");
            rows = top.ExitCode == 0 ? Rows(top.Output) : [];
            if (rows.Any(r => r[0] == "top-b" && r[1] != "<unknown>") && rows.Any(r => r[0] == "top-a" && r[1] != "<unknown>")) break;
            await Task.Delay(100);
        }
        top.Succeeded();
        Assert.Equal(["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], rows[0]);
        var byNode = rows.Skip(1).ToDictionary(r => r[0], r => string.Join(' ', r.Skip(1)));
        Assert.Equal(4, byNode.Count);
        Assert.Equal("16000m 50% 32768Mi 25%", byNode["top-a"]);
        Assert.Equal("4800m 30% 45875Mi 70%", byNode["top-b"]);
        Assert.Equal("<unknown> <unknown> <unknown> <unknown>", byNode["top-c"]);
        Assert.Equal("<unknown> <unknown> <unknown> <unknown>", byNode["top-d"]);

        // One node by name, and one without metrics: metrics-server's NotFound.
        var one = Rows((await kube.Run("top", "node", "top-a")).Succeeded().Output);
        Assert.Equal("top-a 16000m 50% 32768Mi 25%", string.Join(' ', one[1]));
        var missing = await kube.Run("top", "node", "top-d");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("nodemetrics.metrics.k8s.io \"top-d\" not found", missing.Error);
    }

    /// <summary>The objects as metrics-server serves them (k8s.io/metrics pkg/apis/metrics/v1beta1/types.go): kind, usage quantities, labels to select by.</summary>
    [Fact]
    public async Task Node_metrics_are_served_as_metrics_server_serves_them()
    {
        (await kube.Run("apply", "-f", kube.Manifest("topj-a", KubeManifests.Node("topj-a", "topj")))).Succeeded();
        await Report("topj-a", "\"cpu\":0.25,\"memory\":0.5");
        JsonElement list = default;
        for (var i = 0; i < 100; i++)
        {
            list = JsonDocument.Parse(await kube.Http.GetStringAsync("apis/metrics.k8s.io/v1beta1/nodes?labelSelector=test%3Dtopj")).RootElement;
            if (list.GetProperty("items").GetArrayLength() > 0) break;
            await Task.Delay(100);
        }
        Assert.Equal(("NodeMetricsList", "metrics.k8s.io/v1beta1"), (list.GetProperty("kind").GetString(), list.GetProperty("apiVersion").GetString()));
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal("topj-a", item.GetProperty("metadata").GetProperty("name").GetString());
        Assert.Equal("topj", item.GetProperty("metadata").GetProperty("labels").GetProperty("test").GetString());
        // 16 cores x 0.25 = 4000m; 64Gi x 0.5 = 32Gi = 33554432Ki.
        Assert.Equal("4000m", item.GetProperty("usage").GetProperty("cpu").GetString());
        Assert.Equal("33554432Ki", item.GetProperty("usage").GetProperty("memory").GetString());

        var absent = await kube.Http.GetAsync("apis/metrics.k8s.io/v1beta1/nodes/no-such-node");
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        var status = JsonDocument.Parse(await absent.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("Status", "NotFound"), (status.GetProperty("kind").GetString(), status.GetProperty("reason").GetString()));
    }
}
