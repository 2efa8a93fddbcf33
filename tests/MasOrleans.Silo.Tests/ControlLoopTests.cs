using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Tests;

/// <summary>Nodes, workloads and the scheduler reacting to each other on a live silo (<see cref="ControlLoopFixture"/>).</summary>
[Collection(ControlLoopCollection.Name)]
public sealed class ControlLoopTests(ControlLoopFixture fixture) : ControlLoopTestBase(fixture)
{
    [Fact]
    public async Task A_node_that_stops_reporting_is_declared_not_ready_loses_its_pods_to_another_node_and_gets_new_ones_when_back()
    {
        await Nodes("nf", "nf-a", "nf-b");
        using var telemetry = new TelemetryPump(Http, "nf-a", "nf-b");
        await CreateWorkload("nf", replicas: 4, pool: "nf");
        var placed = await WaitForWorkload("nf", w => Ready(w) == 4);
        Assert.Contains(PodsOf(placed), p => p.Node == "nf-a"); // spread over both nodes (LeastAllocated)

        telemetry.Silence("nf-a");
        // Event-driven: wait for the move itself (the timeout only bounds a hang), then check it happened for the right
        // reason and in the right order: the node was declared NotReady, and only then were its pods evicted.
        await WaitForWorkload("nf", w => Ready(w) == 4 && PodsOf(w).All(p => p.Node == "nf-b"), timeoutSeconds: 60);
        var notReady = Assert.Single(await Events("nodes", "nf-a"), e => e.Reason == "NodeNotReady");
        // The node that kept reporting never went NotReady (the evictions counted below are all from nf-a).
        Assert.DoesNotContain(await Events("nodes", "nf-b"), e => e.Reason == "NodeNotReady");
        var evictions = (await Events("workloads", "nf")).Where(e => e.Reason == "PodEvicted" && e.Message.Contains("NodeLost") && e.Message.Contains("from nf-a;")).ToList();
        Assert.NotEmpty(evictions);
        Assert.All(evictions, e => Assert.True(e.LastSeen >= notReady.LastSeen, $"{e.Message} at {e.LastSeen:O} came before NodeNotReady at {notReady.LastSeen:O}"));

        telemetry.Resume("nf-a");
        await Http.WaitFor("/api/v1/nodes/nf-a", n => n.GetProperty("ready").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsJsonAsync("/api/v1/workloads/nf/scale", new { replicas = 8 })).StatusCode);
        var grown = await WaitForWorkload("nf", w => Ready(w) == 8);
        Assert.Contains(PodsOf(grown), p => p.Node == "nf-a");
    }

    [Fact]
    public async Task Deleting_a_node_drains_it_and_workloads_recreate_its_pods_elsewhere()
    {
        await Nodes("dr", "dr-a", "dr-b");
        await Http.PostAsync("/api/v1/nodes/dr-b/cordon", null);
        await CreateWorkload("dr", replicas: 2, pool: "dr");
        await WaitForWorkload("dr", w => Ready(w) == 2 && PodsOf(w).All(p => p.Node == "dr-a"));
        using (var bare = await Http.Post("/api/v1/pods", new { name = "dr-bare", requests = Cpu("1"), nodeSelector = new Dictionary<string, string> { ["pool"] = "dr" } }))
            Assert.Equal(HttpStatusCode.Accepted, bare.StatusCode);
        await Http.WaitFor("/api/v1/pods/dr-bare", p => p.Phase() == "Running");
        await Http.PostAsync("/api/v1/nodes/dr-b/uncordon", null);

        // A pod no workload recreates would be lost: refused unless forced (kubectl drain's rule).
        using (var refused = await Http.DeleteAsync("/api/v1/nodes/dr-a"))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("dr-bare", await refused.Content.ReadAsStringAsync());
        }
        using (var draining = await Http.DeleteAsync("/api/v1/nodes/dr-a?force=true"))
            Assert.Equal(HttpStatusCode.Accepted, draining.StatusCode);

        await WaitForWorkload("dr", w => Ready(w) == 2 && PodsOf(w).All(p => p.Node == "dr-b"));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await Http.GetAsync("/api/v1/nodes/dr-a")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(DateTime.UtcNow < deadline, "drained node was never removed");
            await Task.Delay(50);
        }
        // Deleted, as Kubernetes' pod GC deletes the pods of a deleted node and kubectl drain's evictions do; it was
        // left listed as Failed/Drained on a node that no longer exists.
        deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await Http.GetAsync("/api/v1/pods/dr-bare")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(DateTime.UtcNow < deadline, "the forced-off pod of a deleted node was never deleted");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A pod no workload owns that failed on a node no longer holds it, so the node's delete is an empty node's (204) and
    /// its drain never sees the pod; Kubernetes' pod GC deletes it all the same, as bound to a node that no longer exists
    /// (pkg/controller/podgc/gc_controller.go, gcOrphaned). It stayed listed Failed with the deleted node's name.
    /// </summary>
    [Fact]
    public async Task Deleting_a_node_deletes_a_pod_no_workload_owns_that_failed_there()
    {
        await Nodes("og", "og-a");
        using (var created = await Http.Post("/api/v1/pods", new { name = "og-failed", requests = Cpu("1"), image = "busybox:exit-1", nodeSelector = new Dictionary<string, string> { ["pool"] = "og" } }))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var failed = await Http.WaitFor("/api/v1/pods/og-failed", p => p.Phase() == "Failed");
        Assert.Equal("og-a", failed.GetProperty("nodeName").GetString());

        using (var deleted = await Http.DeleteAsync("/api/v1/nodes/og-a"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await Http.GetAsync("/api/v1/pods/og-failed")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(DateTime.UtcNow < deadline, "the failed pod of a deleted node was never deleted");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Kube's ReplicaSet on scale-down (pkg/controller/controller_utils.go ActivePodsWithRanks.Less, ranks from
    /// replica_set.go getPodsRankedByRelatedPodsOnSameNode): among assigned, Running, ready pods the one whose node holds
    /// more of the workload's pods goes first, then the newest. sd-a holds 3 and sd-b 1 (created last), so the newest of
    /// sd-a's goes and sd-b's stays; newest-overall deleted sd-b's, leaving all three on sd-a.
    /// </summary>
    [Fact]
    public async Task Scaling_down_deletes_a_pod_from_the_node_crowded_with_the_workloads_pods_not_the_newest_elsewhere()
    {
        await Nodes("sd", "sd-a");
        await CreateWorkload("sd", replicas: 3, pool: "sd");
        var three = PodsOf(await WaitForWorkload("sd", w => Ready(w) == 3));
        await Nodes("sd", "sd-b");
        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsJsonAsync("/api/v1/workloads/sd/scale", new { replicas = 4 })).StatusCode);
        var four = PodsOf(await WaitForWorkload("sd", w => Ready(w) == 4));
        var alone = Assert.Single(four, p => p.Node == "sd-b").Name;

        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsJsonAsync("/api/v1/workloads/sd/scale", new { replicas = 3 })).StatusCode);
        var after = PodsOf(await WaitForWorkload("sd", w => PodsOf(w).Count == 3));
        Assert.Contains(after, p => p.Name == alone);
        Assert.Equal([three[0].Name, three[1].Name], after.Where(p => p.Node == "sd-a").Select(p => p.Name));
        Assert.Contains(await Events("workloads", "sd"), e => e.Reason == "SuccessfulDelete" && e.Message.EndsWith(three[2].Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_container_fails_its_pod_and_the_workload_replaces_it_with_growing_backoff()
    {
        await Nodes("cf", "cf-a");
        await CreateWorkload("cf", replicas: 1, pool: "cf", image: "busybox:exit-3");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<Event> backoffs;
        while ((backoffs = (await Events("workloads", "cf")).Where(e => e.Reason == "BackOff").ToList()).Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the workload did not keep replacing its failing pod");
            await Task.Delay(100);
        }
        Assert.All(backoffs, e => Assert.Contains("container exited with code 3", e.Message));
        Assert.Contains("in 0.3 s", backoffs[0].Message);
        Assert.Contains("in 0.6 s", backoffs[1].Message);
        Assert.Contains("in 1.2 s", backoffs[2].Message);
    }

    [Fact]
    public async Task Pulled_images_are_cached_per_node_and_reported_on_the_node()
    {
        await Nodes("img", "img-a");
        foreach (var name in new[] { "img-1", "img-2" })
        {
            using var r = await Http.Post("/api/v1/pods", new { name, requests = Cpu("1"), image = "nginx:1.27", nodeSelector = new Dictionary<string, string> { ["pool"] = "img" } });
            await Http.WaitFor($"/api/v1/pods/{name}", p => p.Phase() == "Running");
        }
        var node = await Http.GetJson("/api/v1/nodes/img-a");
        Assert.Contains("nginx:1.27", node.GetProperty("images").EnumerateArray().Select(i => i.GetString()));
        Assert.Contains(await Events("pods", "img-1"), e => e.Reason == "Started" && e.Message.Contains("pulled"));
        Assert.Contains(await Events("pods", "img-2"), e => e.Reason == "Started" && e.Message.Contains("already present"));
        Assert.Contains(await Events("nodes", "img-a"), e => e.Reason == "ImagePulled");
    }

    [Fact]
    public async Task A_high_priority_pod_preempts_the_fewest_lower_priority_pods_and_their_workload_recreates_them()
    {
        await Nodes("pr", "pr-a");
        await CreateWorkload("pr-low", replicas: 4, pool: "pr");
        await WaitForWorkload("pr-low", w => Ready(w) == 4);
        using (var r = await Http.Post("/api/v1/pods", new { name = "pr-high", requests = Cpu("2"), priority = 100, nodeSelector = new Dictionary<string, string> { ["pool"] = "pr" } }))
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var high = await Http.WaitFor("/api/v1/pods/pr-high", p => p.Phase() == "Running");
        Assert.Equal("pr-a", high.GetProperty("nodeName").GetString());
        // Exactly two one-CPU victims make room for two CPUs; their replacements wait (lower priority never preempts).
        var low = await WaitForWorkload("pr-low", w => Ready(w) == 2 && w.GetProperty("unschedulable").GetInt32() == 2);
        Assert.Equal(4, PodsOf(low).Count);
        Assert.Equal(2, (await Events("workloads", "pr-low")).Where(e => e.Reason == "PodEvicted" && e.Message.Contains("Preempted")).Sum(e => e.Count));
        // As kube-scheduler records it (handleSchedulingFailure after a PostFilter that nominated): the preemptor's
        // FailedScheduling with the filters' reasons and no preemption verdict (DefaultPreemption says nothing on
        // success), before it was scheduled. Its history said Created, Scheduled, as if nothing had been in its way.
        var reasons = (await Events("pods", "pr-high")).Select(e => e.Reason).ToList();
        Assert.Equal(["Created", "FailedScheduling", "Scheduled"], reasons.Take(3));
        var failed = Assert.Single(await Events("pods", "pr-high"), e => e.Reason == "FailedScheduling");
        Assert.Contains("1 Insufficient cpu", failed.Message);
        Assert.DoesNotContain("preemption:", failed.Message);
    }

    /// <summary>
    /// Two full nodes, each with one priority-0 pod of 4 cpus: pt-a's bound first, pt-b's after. A priority-100 pod of 4 cpus
    /// ties on pickOneNodeForPreemption's first four criteria for both; the fifth (pkg/scheduler/framework/preemption/
    /// preemption.go, the latest start of the highest-priority victims) picks pt-b, whose victim started later; the pod on
    /// pt-a keeps running. Start times are the bind times the nodes stamped, which the silo's view must hold for pods its own
    /// cycles placed too.
    /// </summary>
    [Fact]
    public async Task A_preemptor_evicts_the_later_started_of_two_equal_victims()
    {
        var pool = new Dictionary<string, string> { ["pool"] = "pt" };
        foreach (var (node, pod) in new[] { ("pt-a", "pt-earlier"), ("pt-b", "pt-later") })
        {
            await Nodes("pt", node);
            using (var r = await Http.Post("/api/v1/pods", new { name = pod, requests = Cpu("4"), nodeSelector = pool }))
                Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
            Assert.Equal(node, (await Http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Running")).GetProperty("nodeName").GetString());
        }

        using (var r = await Http.Post("/api/v1/pods", new { name = "pt-high", requests = Cpu("4"), priority = 100, nodeSelector = pool }))
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);

        var high = await Http.WaitFor("/api/v1/pods/pt-high", p => p.Phase() == "Running");
        Assert.Equal("pt-b", high.GetProperty("nodeName").GetString());
        Assert.Equal("Failed", (await Http.GetJson("/api/v1/pods/pt-later")).Phase());
        Assert.Equal("Running", (await Http.GetJson("/api/v1/pods/pt-earlier")).Phase());
    }

    /// <summary>
    /// kube-scheduler's AssignedPodAdded (pkg/scheduler/backend/queue/scheduling_queue.go) moves an unschedulable pod whose
    /// required pod affinity a newly bound pod may satisfy back to the active queue at once. A pod needing an app=pa-db
    /// pod on its node waits while there is none; once one is bound (capacity only shrank, so no other event fires), the
    /// waiter is placed beside it within seconds, not after the 5 minutes of the unschedulable pool's flush.
    /// </summary>
    [Fact]
    public async Task A_pod_waiting_for_pod_affinity_is_placed_once_the_pod_it_needs_is_bound()
    {
        await Nodes("pa", "pa-a");
        var pool = new Dictionary<string, string> { ["pool"] = "pa" };
        var affinity = new
        {
            podAffinity = new
            {
                requiredDuringSchedulingIgnoredDuringExecution = new[]
                {
                    new { labelSelector = new { matchLabels = new Dictionary<string, string> { ["app"] = "pa-db" } }, topologyKey = "kubernetes.io/hostname" },
                },
            },
        };
        using (var r = await Http.Post("/api/v1/pods", new { name = "pa-web", requests = Cpu("1"), nodeSelector = pool, affinity }))
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var waiting = await Http.WaitFor("/api/v1/pods/pa-web", p => p.Phase() == "Unschedulable");
        Assert.Contains("didn't match pod affinity rules", waiting.GetProperty("events").EnumerateArray().Last().GetProperty("message").GetString());

        using (var r = await Http.Post("/api/v1/pods", new { name = "pa-db", requests = Cpu("1"), nodeSelector = pool, labels = new Dictionary<string, string> { ["app"] = "pa-db" } }))
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var placed = await Http.WaitFor("/api/v1/pods/pa-web", p => p.Phase() == "Running", timeoutSeconds: 20);
        Assert.Equal("pa-a", placed.GetProperty("nodeName").GetString());
    }

    /// <summary>
    /// Reconciliation is each queue shard's, over its own pods (ReconcileSeconds is 1 here): a reservation a node holds
    /// for a pod that does not exist (what a silo dying between Reserve and MarkScheduled leaves) is freed by the shard
    /// that pod name hashes to, and a running pod's reservation on the same node is kept through the passes. The ghosts
    /// hash to the running pod's shard, so the second ghost's release (an orphan is freed on its second sighting) proves
    /// two passes of that shard over the running pod after the first release.
    /// </summary>
    [Fact]
    public async Task A_reservation_for_a_pod_that_does_not_exist_is_freed_by_its_shard_and_a_running_pods_is_kept()
    {
        var shards = Fixture.Host.Services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
        var ghosts = Enumerable.Range(0, int.MaxValue).Select(i => $"rc-ghost-{i}")
            .Where(name => QueueShards.Of(name, shards) == QueueShards.Of("rc-real", shards)).Take(2).ToList();
        foreach (var ghost in ghosts)
            Fixture.Host.Log.Expect(Regex.Escape($"Reconciled: node rc-a held a reservation for pod {ghost} which is gone; released"));
        await Nodes("rc", "rc-a");
        using (var real = await Http.Post("/api/v1/pods", new { name = "rc-real", requests = Cpu("1"), nodeSelector = new Dictionary<string, string> { ["pool"] = "rc" } }))
            Assert.Equal(HttpStatusCode.Accepted, real.StatusCode);
        await Http.WaitFor("/api/v1/pods/rc-real", p => p.Phase() == "Running");

        var node = Fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>("rc-a");
        foreach (var ghost in ghosts)
        {
            Assert.True((await node.Reserve(new PodSpec { Name = ghost, Requests = ResourceVector.Of(cpuMilli: 2000) }, GpuAllocation.None)).Reserved);
            Assert.Contains(ghost, NodePods(await Http.GetJson("/api/v1/nodes/rc-a")));
            var freed = await Http.WaitFor("/api/v1/nodes/rc-a", n => !NodePods(n).Contains(ghost), timeoutSeconds: 30);
            Assert.Equal(["rc-real"], NodePods(freed));
        }
        Assert.Equal("Running", (await Http.GetJson("/api/v1/pods/rc-real")).Phase());
        // Each ghost released once, by a queue shard (the first ghost's line was written before the passes that freed the
        // second one). The shard logs after the node's release answers, so the node can show the room free a moment before
        // the line is written (a fresh-clone run checked in between).
        foreach (var ghost in ghosts)
        {
            await FaultScenarios.WaitUntil(() => Fixture.Host.Log.Records.Any(r => r.Message.Contains($"pod {ghost} ", StringComparison.Ordinal)), 10);
            var released = Assert.Single(Fixture.Host.Log.Records, r => r.Message.Contains($"pod {ghost} ", StringComparison.Ordinal));
            Assert.Contains("SchedulingQueueGrain", released.Category, StringComparison.Ordinal);
            Assert.Contains("which is gone; released", released.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A reservation a node still holds for a pod deleted since (its release lost with its silo) whose name a waiting pod
    /// has again: the waiting pod is another one (its creation time), whose cycle leaves that room alone, so the shard
    /// frees it. It was kept for as long as a pod of the name waited, the room lost.
    /// </summary>
    [Fact]
    public async Task A_reservation_for_a_deleted_pod_whose_name_a_waiting_pod_has_again_is_freed_by_its_shard()
    {
        Fixture.Host.Log.Expect(Regex.Escape("Reconciled: node rcb-a held a reservation for pod rcb-reborn which is deleted (created again since); released"));
        await Nodes("rcb", "rcb-a");
        var node = Fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>("rcb-a");
        var deleted = new PodSpec { Name = "rcb-reborn", Requests = ResourceVector.Of(cpuMilli: 2000), CreatedAt = DateTimeOffset.UnixEpoch };
        Assert.True((await node.Reserve(deleted, GpuAllocation.None)).Reserved);
        // Selects no node, so the pod created again waits through the passes.
        using (var created = await Http.Post("/api/v1/pods", new { name = "rcb-reborn", requests = Cpu("1"), nodeSelector = new Dictionary<string, string> { ["pool"] = "none-such" } }))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        await Http.WaitFor("/api/v1/pods/rcb-reborn", p => p.Phase() == "Unschedulable");

        await Http.WaitFor("/api/v1/nodes/rcb-a", n => NodePods(n).Count == 0, timeoutSeconds: 30);
        Assert.Equal("Unschedulable", (await Http.GetJson("/api/v1/pods/rcb-reborn")).Phase());
    }

    private static List<string> NodePods(JsonElement node) => node.GetProperty("pods").EnumerateArray().Select(p => p.GetString()!).ToList();
}
