using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// One silo with short control-loop periods (workload resync 0.3 s, backoffs in tenths). The heartbeat grace is 10 s,
/// not shorter: the telemetry pumps report every 200 ms, and a starved test process that paused them for a grace would
/// make a node flap NotReady (extra evictions and events) in a test about something else.
/// </summary>
public sealed class ControlLoopFixture : IAsyncLifetime
{
    public const double GraceSeconds = 10;

    public SiloHost Host { get; private set; } = null!;
    public HttpClient Http => Host.Http;

    public async Task InitializeAsync() => Host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Telemetry:HeartbeatGraceSeconds"] = $"{GraceSeconds}",
        ["Scheduler:RetryCoalesceMilliseconds"] = "50",
        ["Scheduler:InitialBackoffMilliseconds"] = "200",
        ["Scheduler:MaxBackoffMilliseconds"] = "1000",
        ["Scheduler:ReconcileSeconds"] = "1",
        ["Workloads:ResyncSeconds"] = "0.3",
        ["Workloads:FailureBackoffSeconds"] = "0.3",
        ["Workloads:MaxFailureBackoffSeconds"] = "5",
        ["Workloads:BackoffResetSeconds"] = "10",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class ControlLoopTests(ControlLoopFixture fixture) : IClassFixture<ControlLoopFixture>, IDisposable
{
    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Host.Log.AssertClean();

    private HttpClient Http => fixture.Http;

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

    [Fact]
    public async Task Autoscaler_follows_node_cpu_with_seed001_steps_and_hpa_rounding_and_respects_cooldowns()
    {
        await Nodes("as", "as-a");
        using var telemetry = new TelemetryPump(Http, "as-a") { Cpu = 0.9 };
        await CreateWorkload("as", replicas: 2, pool: "as", autoscale: new
        {
            minReplicas = 1, maxReplicas = 6, targetCpuUtilization = 50, scaleUpCooldownSeconds = 1, scaleDownCooldownSeconds = 1.5,
        });
        // 90% against a 50% target: ratio 1.8, so 2 -> ceil(3.6) = 4 -> ceil(7.2) = 7, capped at 6, one step per cooldown.
        await WaitForWorkload("as", w => w.GetProperty("replicas").GetInt32() == 6, timeoutSeconds: 20);
        telemetry.Cpu = 0.1; // under half the target: steps of 2 down to the minimum
        await WaitForWorkload("as", w => w.GetProperty("replicas").GetInt32() == 1, timeoutSeconds: 20);

        var events = await Events("workloads", "as");
        var ups = events.Where(e => e.Reason == "ScaledUp").ToList();
        var downs = events.Where(e => e.Reason == "ScaledDown").ToList();
        Assert.Equal(["2 -> 4", "4 -> 6"], ups.Select(e => Step(e.Message)));
        Assert.Equal(["6 -> 4", "4 -> 2", "2 -> 1"], downs.Select(e => Step(e.Message)));
        Assert.Contains(events, e => e.Reason == "ScaleCooldown");
        AssertSpaced(ups, TimeSpan.FromSeconds(1));
        AssertSpaced([ups[^1], .. downs], TimeSpan.FromSeconds(1.5));
    }

    /// <summary>
    /// Replicas the cluster has no room for count as idle on a scale-up, as HPA counts Pending pods
    /// (replica_calculator.go): 2 replicas fill their node's free room at 90% against a 50% target and ask for
    /// ceil(2 * 1.8) = 4; the 2 new ones stay Unschedulable, so the ratio over all 4 is 1.8 * 2 / 4 = 0.9, within the
    /// tolerance, and the count holds. Each pass past the cooldown asked for ceil(4 * 1.8) = 8, then the maximum, 10.
    /// </summary>
    [Fact]
    public async Task Replicas_that_cannot_be_placed_do_not_make_the_autoscaler_ask_for_more()
    {
        await Nodes("pd", "pd-a");
        using (var blocker = await Http.Post("/api/v1/pods", new { name = "pd-blocker", requests = Cpu("2"), nodeSelector = new Dictionary<string, string> { ["pool"] = "pd" } }))
            Assert.Equal(HttpStatusCode.Accepted, blocker.StatusCode);
        await Http.WaitFor("/api/v1/pods/pd-blocker", p => p.Phase() == "Running");
        using var telemetry = new TelemetryPump(Http, "pd-a") { Cpu = 0.9 };
        await CreateWorkload("pd", replicas: 2, pool: "pd", autoscale: new
        {
            minReplicas = 1, maxReplicas = 10, targetCpuUtilization = 50, scaleUpCooldownSeconds = 0.5, scaleDownCooldownSeconds = 3600,
        });
        await WaitForWorkload("pd", w => w.GetProperty("replicas").GetInt32() == 4 && Ready(w) == 2 && w.GetProperty("unschedulable").GetInt32() == 2);
        // Many resync passes (0.3 s) and scale-up cooldowns (0.5 s) at 90%.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(4, (await Http.GetJson("/api/v1/workloads/pd")).GetProperty("replicas").GetInt32());
        Assert.Equal(["2 -> 4"], (await Events("workloads", "pd")).Where(e => e.Reason == "ScaledUp").Select(e => Step(e.Message)));
    }

    /// <summary>
    /// A scale-up starts a long cooldown while the CPU stays high: each resync (0.3 s here) decides ScaleCooldown again,
    /// its message naming the seconds left. Those once took all 32 kept events within 10 s, so the workload's events no
    /// longer said that it had scaled, or that it was created. As kube's controllers' recorder does (client-go
    /// tools/record/events_cache.go), the 10th distinct message of a reason and all later ones are one combined event.
    /// </summary>
    [Fact]
    public async Task A_long_cooldown_repeated_each_resync_does_not_push_the_scaling_out_of_the_workloads_events()
    {
        await Nodes("cd", "cd-a");
        using var telemetry = new TelemetryPump(Http, "cd-a") { Cpu = 0.9 };
        await CreateWorkload("cd", replicas: 1, pool: "cd", autoscale: new
        {
            minReplicas = 1, maxReplicas = 6, targetCpuUtilization = 50, scaleUpCooldownSeconds = 3600, scaleDownCooldownSeconds = 3600,
        });
        // 90% against 50%: 1 -> ceil(1.8) = 2, then 2 asks for 4 on every pass of the hour's cooldown.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<Event> events;
        while ((events = await Events("workloads", "cd")).Where(e => e.Reason == "ScaleCooldown").Sum(e => e.Count) <= MasOrleans.Abstractions.Contracts.ObjectEvents.MaxEvents)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"the cooldowns never outnumbered the {MasOrleans.Abstractions.Contracts.ObjectEvents.MaxEvents} kept events; listed: {string.Join(" | ", events.Select(e => $"{e.Reason} x{e.Count}"))}");
            await Task.Delay(200);
        }
        Assert.Contains(events, e => e.Reason == "Created");
        Assert.Equal(["1 -> 2"], events.Where(e => e.Reason == "ScaledUp").Select(e => Step(e.Message)));
        var cooldowns = events.Where(e => e.Reason == "ScaleCooldown").ToList();
        Assert.Equal(10, cooldowns.Count);
        Assert.StartsWith("(combined from similar events): cpu 90% vs target 50% asks for 4 replica(s)", cooldowns[^1].Message, StringComparison.Ordinal);
        Assert.Equal(2, (await Http.GetJson("/api/v1/workloads/cd")).GetProperty("replicas").GetInt32());
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

    /// <summary>
    /// Node CPU dipping to 10% between readings at the 50% target: each dip asked for 4 - 2 = 2 replicas and, the
    /// cooldown being over, got them (then the load at target kept 2). A scale-down now needs every recommendation of
    /// its window (the 3 s scale-down cooldown, HPA's stabilization) to be lower; a lasting dip still scales down.
    /// </summary>
    [Fact]
    public async Task Autoscaler_does_not_scale_down_on_dips_between_readings_at_target()
    {
        await Nodes("fl", "fl-a");
        using var telemetry = new TelemetryPump(Http, "fl-a") { Cpu = 0.5 };
        await CreateWorkload("fl", replicas: 4, pool: "fl", autoscale: new
        {
            minReplicas = 1, maxReplicas = 6, targetCpuUtilization = 50, scaleUpCooldownSeconds = 0, scaleDownCooldownSeconds = 3,
        });
        await WaitForWorkload("fl", w => Ready(w) == 4);
        for (var i = 0; i < 8; i++)
        {
            telemetry.Cpu = i % 2 == 0 ? 0.1 : 0.5;
            await Task.Delay(400);
        }
        Assert.Equal(4, (await Http.GetJson("/api/v1/workloads/fl")).GetProperty("replicas").GetInt32());
        Assert.DoesNotContain(await Events("workloads", "fl"), e => e.Reason == "ScaledDown");
        Assert.Contains(await Events("workloads", "fl"), e => e.Reason == "ScaleStabilized");

        telemetry.Cpu = 0.1;
        await WaitForWorkload("fl", w => w.GetProperty("replicas").GetInt32() == 2, timeoutSeconds: 20);
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
    /// that pod name hashes to, and a running pod's reservation on the same node is kept through the passes.
    /// </summary>
    [Fact]
    public async Task A_reservation_for_a_pod_that_does_not_exist_is_freed_by_its_shard_and_a_running_pods_is_kept()
    {
        fixture.Host.Log.Expect("Reconciled: node rc-a held a reservation for pod rc-ghost which is gone; released");
        await Nodes("rc", "rc-a");
        using (var real = await Http.Post("/api/v1/pods", new { name = "rc-real", requests = Cpu("1"), nodeSelector = new Dictionary<string, string> { ["pool"] = "rc" } }))
            Assert.Equal(HttpStatusCode.Accepted, real.StatusCode);
        await Http.WaitFor("/api/v1/pods/rc-real", p => p.Phase() == "Running");

        var node = fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>("rc-a");
        var ghost = new PodSpec { Name = "rc-ghost", Requests = ResourceVector.Of(cpuMilli: 2000) };
        Assert.True((await node.Reserve(ghost, GpuAllocation.None)).Reserved);
        Assert.Contains("rc-ghost", NodePods(await Http.GetJson("/api/v1/nodes/rc-a")));

        var freed = await Http.WaitFor("/api/v1/nodes/rc-a", n => !NodePods(n).Contains("rc-ghost"), timeoutSeconds: 30);
        Assert.Equal(["rc-real"], NodePods(freed));
        // Several more passes: the running pod keeps its node, and the ghost was released once, by a queue shard (the
        // log line follows the release, so it is read after the passes, not the moment the node shows the room free).
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(["rc-real"], NodePods(await Http.GetJson("/api/v1/nodes/rc-a")));
        Assert.Equal("Running", (await Http.GetJson("/api/v1/pods/rc-real")).Phase());
        var released = Assert.Single(fixture.Host.Log.Records, r => r.Message.Contains("rc-ghost", StringComparison.Ordinal));
        Assert.Contains("SchedulingQueueGrain", released.Category, StringComparison.Ordinal);
        Assert.Contains("which is gone; released", released.Message, StringComparison.Ordinal);
    }

    private static List<string> NodePods(JsonElement node) => node.GetProperty("pods").EnumerateArray().Select(p => p.GetString()!).ToList();

    private sealed record Event(string Reason, string Message, DateTimeOffset LastSeen, int Count);

    private async Task<List<Event>> Events(string kind, string name) =>
        (await Http.GetJson($"/api/v1/{kind}/{name}/events")).GetProperty("items").EnumerateArray()
            .Select(e => new Event(e.GetProperty("reason").GetString()!, e.GetProperty("message").GetString()!,
                e.GetProperty("lastSeen").GetDateTimeOffset(), e.GetProperty("count").GetInt32())).ToList();

    private static string Step(string message) => message[(message.IndexOf(": ", StringComparison.Ordinal) + 2)..message.IndexOf(" replica", StringComparison.Ordinal)];

    private static void AssertSpaced(IReadOnlyList<Event> events, TimeSpan cooldown)
    {
        for (var i = 1; i < events.Count; i++)
            Assert.True(events[i].LastSeen - events[i - 1].LastSeen >= cooldown, $"{events[i].Message} came {events[i].LastSeen - events[i - 1].LastSeen} after the previous step");
    }

    private async Task Nodes(string pool, params string[] names)
    {
        foreach (var name in names)
        {
            using var r = await Http.Post("/api/v1/nodes", Requests.Node(name, cpu: "4", labels: new Dictionary<string, string> { ["pool"] = pool }));
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
    }

    private async Task CreateWorkload(string name, int replicas, string pool, string? image = null, object? autoscale = null)
    {
        using var r = await Http.Post("/api/v1/workloads", new
        {
            name, replicas, autoscale,
            template = new { requests = Cpu("1"), image, nodeSelector = new Dictionary<string, string> { ["pool"] = pool } },
        });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }

    private static Dictionary<string, string> Cpu(string cpu) => new() { ["cpu"] = cpu, ["memory"] = "256Mi" };

    private Task<JsonElement> WaitForWorkload(string name, Func<JsonElement, bool> condition, int timeoutSeconds = 20) =>
        Http.WaitFor($"/api/v1/workloads/{name}", condition, timeoutSeconds);

    private static int Ready(JsonElement workload) => workload.GetProperty("readyReplicas").GetInt32();

    private static List<(string Name, string Phase, string? Node)> PodsOf(JsonElement workload) =>
        workload.GetProperty("pods").EnumerateArray().Select(p => (p.GetProperty("name").GetString()!, p.Phase(),
            p.TryGetProperty("nodeName", out var n) ? n.GetString() : null)).ToList();
}

/// <summary>Posts a CPU reading for each node every 200 ms, like node agents, until silenced or disposed.</summary>
internal sealed class TelemetryPump : IDisposable
{
    private readonly HashSet<string> _silenced = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public TelemetryPump(HttpClient http, params string[] nodes) => _loop = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var node in nodes)
            {
                bool silent;
                lock (_silenced) silent = _silenced.Contains(node);
                if (!silent) using (await http.Post($"/api/v1/nodes/{node}/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = Cpu } })) { }
            }
            await Task.Delay(200);
        }
    });

    public double Cpu { get; set; } = 0.3;

    public void Silence(string node) { lock (_silenced) _silenced.Add(node); }

    public void Resume(string node) { lock (_silenced) _silenced.Remove(node); }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
