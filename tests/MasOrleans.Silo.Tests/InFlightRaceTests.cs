using System.Net;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Deletes racing placements, end to end (real HTTP, a silo on a real redis-server, state read back from Redis):
/// pods deleted while being scheduled, and a node deleted while pods are being bound to it. Grains.Tests holds the
/// grain-level cases (a pod deleted while scheduled, the same pod reserved twice); the idempotent re-reserve after a
/// crash is proven end to end by FaultsInFlightTests.
/// </summary>
public sealed class InFlightRaceTests(ITestOutputHelper output) : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    [Fact]
    public async Task Pods_deleted_over_HTTP_while_being_scheduled_leave_no_record_and_no_reservation_in_redis()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string> { ["Scheduler:RetryCoalesceMilliseconds"] = "50" });
        var pool = new Dictionary<string, string> { ["pool"] = "vanish" };
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("v-node", cpu: "8", labels: pool))).StatusCode);
        // Eight clients each submit a pod and delete it at once: the delete lands before, during or after its cycle.
        var deleted = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                var name = $"v-pod-{c}-{i}";
                using var created = await silo.Http.Post("/api/v1/pods", new { name, requests = new Dictionary<string, string> { ["cpu"] = "1" }, nodeSelector = pool });
                Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
                using var gone = await silo.Http.DeleteAsync($"/api/v1/pods/{name}");
                Assert.True(gone.IsSuccessStatusCode, $"DELETE {name}: {(int)gone.StatusCode}");
                Interlocked.Increment(ref deleted);
            }
        })));

        // Every reservation given back, whichever way it raced: a pod that wants the whole node gets it.
        using (var whole = await silo.Http.Post("/api/v1/pods", new { name = "v-whole", requests = new Dictionary<string, string> { ["cpu"] = "8" }, nodeSelector = pool }))
            Assert.Equal(HttpStatusCode.Accepted, whole.StatusCode);
        try
        {
            await silo.Http.WaitFor("/api/v1/pods/v-whole", p => p.Phase() == "Running", timeoutSeconds: 30);
        }
        catch (Xunit.Sdk.XunitException timedOut)
        {
            // Seen once (session 14): v-whole refused for "Insufficient cpu" throughout. Say who still held the room, in
            // the node grain's answer, the scheduler's view and Redis, so the next failure shows where the leak is.
            var held = await StoredCluster.ReadAsync(_redis.ConnectionString);
            throw new Xunit.Sdk.XunitException(
                $"{timedOut.Message}\nv-node through the API: {await silo.Http.GetStringAsync("/api/v1/nodes/v-node")}\n" +
                $"the scheduler's view (cluster summary): {await silo.Http.GetStringAsync("/api/v1/cluster")}\n" +
                $"stored bindings of v-node: {string.Join(", ", held.Bindings.GetValueOrDefault("v-node") ?? [])}; stored pods: {string.Join(", ", held.Pods.Keys)}",
                timedOut);
        }
        var node = await silo.Http.GetJson("/api/v1/nodes/v-node");
        Assert.Equal(["v-whole"], node.GetProperty("pods").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(1, (await silo.Http.GetJson("/api/v1/pods")).GetProperty("total").GetInt32());
        var stored = await StoredCluster.ReadAsync(_redis.ConnectionString);
        Assert.Equal(["v-whole"], stored.Pods.Keys);
        Assert.Equal(["v-whole"], stored.Bindings["v-node"]);
        output.WriteLine($"{deleted} pods created and deleted at once over HTTP; afterwards Redis holds {stored.Pods.Count} pod record(s) and v-node's bindings {string.Join(", ", stored.Bindings["v-node"])}");
    }

    [Fact]
    public async Task A_node_deleted_over_HTTP_while_pods_are_being_bound_to_it_is_removed_and_no_pod_stays_bound_to_it()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string> { ["Scheduler:RetryCoalesceMilliseconds"] = "50" });
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("doomed", cpu: "64", memory: "256Gi"))).StatusCode);
        const int PodCount = 120;
        var accepted = 0;
        var deleteAnswered = 0;
        var acceptedAfterDelete = new System.Collections.Concurrent.ConcurrentBag<string>();
        var submit = Task.WhenAll(Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = c; i < PodCount; i += 8)
            {
                var afterDelete = Volatile.Read(ref deleteAnswered) == 1;
                using var created = await silo.Http.Post("/api/v1/pods", Requests.Pod($"b-pod-{i:000}", cpu: "100m", memory: "128Mi"));
                Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
                Interlocked.Increment(ref accepted);
                if (afterDelete) acceptedAfterDelete.Add($"b-pod-{i:000}");
            }
        })));
        // Delete once placements are under way and while pods keep arriving (force: they are bare pods).
        await FaultScenarios.WaitUntil(() => Volatile.Read(ref accepted) >= PodCount / 4, 60);
        using (var delete = await silo.Http.DeleteAsync("/api/v1/nodes/doomed?force=true"))
            Assert.True(delete.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.NoContent, $"DELETE doomed: {(int)delete.StatusCode}");
        Volatile.Write(ref deleteAnswered, 1);
        await submit;

        // Removed once its pods are gone; a pod bound to it after the drain began would keep it forever.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            // One read per round: the node may go between two reads (a second GET then meets the 404 it waits for).
            using var read = await silo.Http.GetAsync("/api/v1/nodes/doomed");
            if (read.StatusCode == HttpStatusCode.NotFound) break;
            Assert.True(DateTime.UtcNow < deadline, $"the deleted node is still there: {await read.Content.ReadAsStringAsync()}");
            await Task.Delay(100);
        }
        await PodLoad.Settled(silo.Http, timeoutSeconds: 30);
        var result = await ClusterInvariants.CheckAsync(silo.Http, "b-pod-");
        // The drain's evictions are deleted with the node (Kubernetes' pod GC); the rest still wait, bound to nothing.
        Assert.Equal(0, result.Count("Failed"));
        Assert.Equal(0, result.Bound);
        // Only a pod the drain could evict may be gone: one sent after the DELETE was answered never met the node.
        var listed = result.Pods.Select(p => p.GetProperty("name").GetString()).ToHashSet();
        Assert.All(acceptedAfterDelete, name => Assert.Contains(name, listed));
        var stored = await StoredCluster.ReadAsync(_redis.ConnectionString);
        Assert.DoesNotContain("doomed", stored.Nodes);
        Assert.False(stored.Bindings.ContainsKey("doomed"), $"doomed's bindings outlived it: {string.Join(", ", stored.Bindings.GetValueOrDefault("doomed") ?? [])}");
        Assert.Empty(stored.BoundWithoutReservation());
        Assert.Equal(result.Pods.Count, stored.Pods.Count);
        output.WriteLine($"node deleted mid-load: {PodCount} pods submitted and acknowledged; {PodCount - result.Pods.Count} evicted and deleted by the drain, {acceptedAfterDelete.Count} sent after the DELETE's answer and all still listed, "
            + $"{result.Count("Unschedulable")} waiting, {result.Bound} bound; Redis holds no record or binding of the node");
    }
}
