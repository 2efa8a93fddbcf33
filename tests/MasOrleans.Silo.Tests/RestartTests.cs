using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>Crash recovery: state in Redis survives a SIGKILLed silo exactly.</summary>
public sealed class RestartTests() : SiloProcessTestBase("mas-restart-")
{
    [Fact]
    public async Task After_SIGKILL_and_restart_every_pod_and_node_is_exactly_as_before()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        Dictionary<string, string> podsBefore, nodesBefore;
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            var http = silo.Http;
            await http.Post("/api/v1/nodes", Requests.Node("r-a", cpu: "4", gpus: "2"));
            await http.Post("/api/v1/nodes", Requests.Node("r-b", cpu: "4", gpus: "1"));
            string?[] gpuShapes = [null, "300m", "500m", "1", "700m", "2"];
            for (var i = 0; i < 12; i++)
                await http.Post("/api/v1/pods", Requests.Pod($"r-pod-{i:00}", cpu: "500m", memory: "1Gi", gpu: gpuShapes[i % gpuShapes.Length]));
            await http.WaitFor("/api/v1/cluster", c => Phases(c).GetValueOrDefault("Pending") == 0 && Phases(c).GetValueOrDefault("Scheduled") == 0);
            podsBefore = await Placements(http);
            nodesBefore = await NodeAllocations(http);
            Assert.Contains(podsBefore.Values, p => p.StartsWith("Running"));
            Assert.Contains(podsBefore.Values, p => p.StartsWith("Unschedulable"));
            silo.AssertCleanLog();
            silo.Kill();
        }
        using (var restarted = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            Assert.Equal(podsBefore, await Placements(restarted.Http));
            Assert.Equal(nodesBefore, await NodeAllocations(restarted.Http));
            // Same ports as the killed silo: Orleans notes the dead older incarnation of itself in the membership table.
            restarted.AssertCleanLog("Detected older version of myself");
        }
    }

    private static Dictionary<string, int> Phases(JsonElement cluster) =>
        cluster.GetProperty("podsByPhase").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());

    /// <summary>Per pod: phase, node and GPU devices, read from each pod (not from the index).</summary>
    private static async Task<Dictionary<string, string>> Placements(HttpClient http)
    {
        var result = new Dictionary<string, string>();
        for (var i = 0; i < 12; i++)
        {
            var pod = await http.GetJson($"/api/v1/pods/r-pod-{i:00}");
            var node = pod.TryGetProperty("nodeName", out var n) ? n.GetString() : "-";
            result[$"r-pod-{i:00}"] = $"{pod.Phase()}|{node}|{pod.GetProperty("gpuDevices")}|{pod.GetProperty("gpuMilliPerDevice")}";
        }
        return result;
    }

    private static async Task<Dictionary<string, string>> NodeAllocations(HttpClient http)
    {
        var result = new Dictionary<string, string>();
        foreach (var name in new[] { "r-a", "r-b" })
        {
            var node = await http.GetJson($"/api/v1/nodes/{name}");
            result[name] = $"{node.GetProperty("allocated")}|{node.GetProperty("gpus")}|{node.GetProperty("pods")}";
        }
        return result;
    }
}
