using System.Net;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A workload's pod deleted by someone else (REST or kubectl delete, the Eviction of a pod not yet placed) is replaced
/// at once, as a ReplicaSet replaces a pod on its deletion event. It was replaced only at the workload's next resync
/// (`Workloads__ResyncSeconds`) or reminder (`Workloads__ReminderSeconds`), as a pod found missing. Both are an hour
/// here, so nothing but the deletion itself can bring the replacement within the wait.
/// </summary>
public sealed class WorkloadPodDeletionTests
{
    [Fact]
    public async Task A_workload_replaces_a_deleted_pod_without_waiting_for_its_resync()
    {
        await using var silo = await SiloHost.StartAsync(settings: new Dictionary<string, string>
        {
            ["Workloads:ResyncSeconds"] = "3600",
            ["Workloads:ReminderSeconds"] = "3600",
        });
        using (var node = await silo.Http.Post("/api/v1/nodes", new { name = "wpd-n", capacity = new Dictionary<string, string> { ["cpu"] = "1" } }))
            Assert.Equal(HttpStatusCode.Created, node.StatusCode);
        // Three replicas of 400m on one cpu: two placed, one waiting, so both a placed and an unplaced pod are deleted.
        using (var created = await silo.Http.Post("/api/v1/workloads", new { name = "wpd", replicas = 3, template = new { requests = new Dictionary<string, string> { ["cpu"] = "400m" } } }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var pods = Pods(await silo.Http.WaitFor("/api/v1/workloads/wpd", PlacedTwoAndOneWaiting));

        var victims = new List<string>();
        foreach (var phase in new[] { "Running", "Unschedulable" })
        {
            var victim = pods.First(p => p.Phase == phase).Name;
            victims.Add(victim);
            using (var deleted = await silo.Http.DeleteAsync($"/api/v1/pods/{victim}"))
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            // Settled again, the replacement placed or found unschedulable: the next deletion has one of each to take.
            pods = Pods(await silo.Http.WaitFor("/api/v1/workloads/wpd", w => !Names(w).Contains(victim) && PlacedTwoAndOneWaiting(w)));
        }

        // One replacement per deletion, each for its pod, and nothing removed as extra (no over-scaling).
        var events = (await silo.Http.GetJson("/api/v1/workloads/wpd/events")).GetProperty("items").EnumerateArray()
            .Select(e => (Reason: e.GetProperty("reason").GetString()!, Message: e.GetProperty("message").GetString()!, Count: e.GetProperty("count").GetInt32())).ToList();
        var missing = events.Where(e => e.Reason == "PodMissing").ToList();
        Assert.Equal(victims.Select(v => $"pod {v} no longer exists; replacing it"), missing.Select(e => e.Message));
        Assert.All(missing, e => Assert.Equal(1, e.Count));
        Assert.DoesNotContain(events, e => e.Reason == "SuccessfulDelete");

        static bool PlacedTwoAndOneWaiting(JsonElement w) =>
            Phases(w).Count == 3 && Phases(w).Count(p => p == "Running") == 2 && Phases(w).Count(p => p == "Unschedulable") == 1;
        static List<(string Name, string Phase)> Pods(JsonElement w) =>
            w.GetProperty("pods").EnumerateArray().Select(p => (p.GetProperty("name").GetString()!, p.GetProperty("phase").GetString()!)).ToList();
        static List<string> Names(JsonElement w) => Pods(w).Select(p => p.Name).ToList();
        static List<string> Phases(JsonElement w) => Pods(w).Select(p => p.Phase).ToList();
    }
}
