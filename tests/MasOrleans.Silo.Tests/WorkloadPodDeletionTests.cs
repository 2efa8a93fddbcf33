using System.Net;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A workload's pod deleted by someone else (REST or kubectl delete, the Eviction of a pod not yet placed) is replaced
/// at once, as a ReplicaSet replaces a pod on its deletion event. It was replaced only at the workload's next resync
/// (`Workloads__ResyncSeconds`, or its one-minute reminder), as a pod found missing. The resync here is an hour, so
/// nothing but the deletion itself can bring the replacement within the wait.
/// </summary>
public sealed class WorkloadPodDeletionTests
{
    [Fact]
    public async Task A_workload_replaces_a_deleted_pod_without_waiting_for_its_resync()
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Workloads:ResyncSeconds"] = "3600" });
        using (var node = await silo.Http.Post("/api/v1/nodes", new { name = "wpd-n", capacity = new Dictionary<string, string> { ["cpu"] = "1" } }))
            Assert.Equal(HttpStatusCode.Created, node.StatusCode);
        // Three replicas of 400m on one cpu: two placed, one waiting, so both a placed and an unplaced pod are deleted.
        using (var created = await silo.Http.Post("/api/v1/workloads", new { name = "wpd", replicas = 3, template = new { requests = new Dictionary<string, string> { ["cpu"] = "400m" } } }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var pods = Pods(await silo.Http.WaitFor("/api/v1/workloads/wpd", w => Phases(w).Count(p => p == "Running") == 2 && Phases(w).Count(p => p == "Unschedulable") == 1));

        foreach (var phase in new[] { "Running", "Unschedulable" })
        {
            var victim = pods.First(p => p.Phase == phase).Name;
            using (var deleted = await silo.Http.DeleteAsync($"/api/v1/pods/{victim}"))
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            pods = Pods(await silo.Http.WaitFor("/api/v1/workloads/wpd",
                w => Names(w).Count == 3 && !Names(w).Contains(victim) && Phases(w).Count(p => p == "Running") == 2));
        }

        static List<(string Name, string Phase)> Pods(JsonElement w) =>
            w.GetProperty("pods").EnumerateArray().Select(p => (p.GetProperty("name").GetString()!, p.GetProperty("phase").GetString()!)).ToList();
        static List<string> Names(JsonElement w) => Pods(w).Select(p => p.Name).ToList();
        static List<string> Phases(JsonElement w) => Pods(w).Select(p => p.Phase).ToList();
    }
}
