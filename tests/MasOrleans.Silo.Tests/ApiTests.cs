using System.Net;
using System.Net.Http.Json;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Silo.Tests.Infrastructure.Problems;

namespace MasOrleans.Silo.Tests;

/// <summary>Every route over real HTTP (Kestrel on 127.0.0.1), including the error cases.</summary>
public sealed class ApiTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Host.Log.AssertClean();

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Nodes_can_be_created_read_listed_patched_cordoned_and_deleted()
    {
        var created = await Http.Post("/api/v1/nodes", new
        {
            name = "api-n1",
            capacity = new Dictionary<string, string> { ["cpu"] = "16", ["memory"] = "64Gi", ["nvidia.com/gpu"] = "2", ["mas.io/disk-io"] = "500" },
            labels = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "A100" },
            taints = new[] { new { key = "dedicated", value = "ml", effect = "NoSchedule" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var node = await created.Json();
        Assert.Equal("16", node.GetProperty("capacity").GetProperty("cpu").GetString());
        Assert.Equal("500", node.GetProperty("capacity").GetProperty("mas.io/disk-io").GetString());
        Assert.Equal(2, node.GetProperty("gpus").GetArrayLength());
        Assert.True(node.GetProperty("ready").GetBoolean());

        var got = await Http.GetJson("/api/v1/nodes/api-n1");
        Assert.Equal("NoSchedule", got.GetProperty("taints")[0].GetProperty("effect").GetString());

        var list = await Http.GetJson("/api/v1/nodes?limit=1000");
        Assert.Contains(list.GetProperty("items").EnumerateArray(), n => n.GetProperty("name").GetString() == "api-n1");

        var patched = await Http.PatchAsJsonAsync("/api/v1/nodes/api-n1", new { labels = new Dictionary<string, string> { ["zone"] = "b" }, taints = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var patchedNode = await patched.Json();
        Assert.Equal("b", patchedNode.GetProperty("labels").GetProperty("zone").GetString());
        Assert.Equal(0, patchedNode.GetProperty("taints").GetArrayLength());

        var cordoned = await (await Http.PostAsync("/api/v1/nodes/api-n1/cordon", null)).Json();
        Assert.True(cordoned.GetProperty("unschedulable").GetBoolean());
        var uncordoned = await (await Http.PostAsync("/api/v1/nodes/api-n1/uncordon", null)).Json();
        Assert.False(uncordoned.GetProperty("unschedulable").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/nodes/api-n1")).StatusCode);
        await AssertProblem(await Http.GetAsync("/api/v1/nodes/api-n1"), HttpStatusCode.NotFound, "api-n1");
    }

    /// <summary>
    /// PATCH, cordon and uncordon answered every refusal 404, and uncordoning a node being deleted was not refused at all: it
    /// went back to schedulable mid-deletion, and cycles placed pods its reservations refuse. Now a refused change is a 409
    /// saying why (the node stays cordoned), a change the deletion does not touch (labels) is taken, and 404 is kept for a
    /// node that does not exist.
    /// </summary>
    [Fact]
    public async Task A_change_a_node_refuses_is_a_409_and_only_a_missing_node_a_404()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.Post("/api/v1/nodes", new { name = "api-deleting", capacity = new Dictionary<string, string> { ["cpu"] = "8", ["memory"] = "16Gi" } })).StatusCode);
        // A reservation whose pod never records it refuses eviction, so the deletion stays under way (DeletedNodeReservationTests).
        var node = fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<MasOrleans.Abstractions.Grains.INodeGrain>("api-deleting");
        var ghost = new MasOrleans.Scheduling.Model.PodSpec { Name = "api-deleting-ghost", Requests = MasOrleans.Scheduling.Resources.ResourceVector.Of(cpuMilli: 1000) };
        Assert.True((await node.Reserve(ghost, MasOrleans.Scheduling.Model.GpuAllocation.None)).Reserved);
        Assert.Equal(HttpStatusCode.Accepted, (await Http.DeleteAsync("/api/v1/nodes/api-deleting?force=true")).StatusCode);

        await AssertProblem(await Http.PostAsync("/api/v1/nodes/api-deleting/uncordon", null), HttpStatusCode.Conflict, "is being deleted");
        await AssertProblem(await Http.PatchAsJsonAsync("/api/v1/nodes/api-deleting", new { unschedulable = false }), HttpStatusCode.Conflict, "is being deleted");
        Assert.True((await node.GetView())!.Spec.Unschedulable);
        using (var labelled = await Http.PatchAsJsonAsync("/api/v1/nodes/api-deleting", new { labels = new Dictionary<string, string> { ["zone"] = "c" } }))
            Assert.Equal(HttpStatusCode.OK, labelled.StatusCode);

        await AssertProblem(await Http.PatchAsJsonAsync("/api/v1/nodes/api-no-such-node", new { unschedulable = true }), HttpStatusCode.NotFound, "api-no-such-node");
        await AssertProblem(await Http.PostAsync("/api/v1/nodes/api-no-such-node/cordon", null), HttpStatusCode.NotFound, "api-no-such-node");
        await node.Release(ghost.Name);
    }

    [Theory]
    [InlineData("cpu", "abc", "not a valid quantity")]
    [InlineData("cpu", "-1", "not a valid quantity")]
    [InlineData("memory", "12Qi", "not a valid quantity")]
    [InlineData("example.com/fpga", "1", "unknown resource")]
    [InlineData("nvidia.com/gpu", "1500m", "whole number of devices")]
    [InlineData("pods", "1.5", "not a valid pod count")]
    // Quantities that hung (/k8s, /extender: the Kubernetes client's fractions) or overflowed (1e28 cores in milli) elsewhere.
    // Well-formed but too large to store (or to hold in a decimal at all): over the maximum, as RequestBounds says.
    [InlineData("cpu", "1e28", "exceeds the maximum")]
    [InlineData("cpu", "1e100000", "exceeds the maximum")]
    [InlineData("memory", "-1E+300", "not a valid quantity")]
    public async Task Malformed_node_capacity_is_a_400(string resource, string quantity, string detail)
    {
        var response = await Http.Post("/api/v1/nodes", new { name = "bad-node", capacity = new Dictionary<string, string> { [resource] = quantity } });
        await AssertProblem(response, HttpStatusCode.BadRequest, detail);
        await AssertProblem(await Http.GetAsync("/api/v1/nodes/bad-node"), HttpStatusCode.NotFound, "bad-node");
    }

    [Fact]
    public async Task Node_errors_are_problem_details()
    {
        await Http.Post("/api/v1/nodes", Requests.Node("api-dup"));
        await AssertProblem(await Http.Post("/api/v1/nodes", Requests.Node("api-dup")), HttpStatusCode.Conflict, "already exists");
        await AssertProblem(await Http.Post("/api/v1/nodes", Requests.Node("Not_A_Name")), HttpStatusCode.BadRequest, "DNS-1123");
        await AssertProblem(await Http.Post("/api/v1/nodes", new { name = "api-t", capacity = new Dictionary<string, string> { ["cpu"] = "1" }, taints = new[] { new { key = "k", effect = "Sometimes" } } }),
            HttpStatusCode.BadRequest, "taint effect");
        await AssertProblem(await Http.PatchAsJsonAsync("/api/v1/nodes/missing", new { unschedulable = true }), HttpStatusCode.NotFound, "missing");
        await AssertProblem(await Http.PostAsync("/api/v1/nodes/missing/cordon", null), HttpStatusCode.NotFound, "missing");
        await AssertProblem(await Http.DeleteAsync("/api/v1/nodes/missing"), HttpStatusCode.NotFound, "missing");
        await AssertProblem(await Http.GetAsync("/api/v1/nodes?limit=0"), HttpStatusCode.BadRequest, "limit");
        var broken = new StringContent("{\"name\": \"x\", \"capacity\": ", System.Text.Encoding.UTF8, "application/json");
        await AssertProblem(await Http.PostAsync("/api/v1/nodes", broken), HttpStatusCode.BadRequest, "JSON");
    }

    /// <summary>
    /// A 202 means the node holds the reading: a GET right after it, with no wait, serves it. Failed before (the GET
    /// still served the previous reading): the reading went onto an Orleans memory stream, pulled every 100 ms, which
    /// after rolling restarts a silo could enqueue into duplicate queue activations nothing pulled, answering 202 for
    /// readings that never arrived (docs/deploy.md). Each reading differs from the one before, so a GET that ran ahead of
    /// its reading fails.
    /// </summary>
    [Fact]
    public async Task Telemetry_is_accepted_for_known_nodes_and_a_read_right_after_the_202_serves_it()
    {
        await Http.Post("/api/v1/nodes", Requests.Node("api-tele"));
        foreach (var cpu in new[] { 0.75, 0.25, 0.5, 0.125, 0.875 })
        {
            var accepted = await Http.Post("/api/v1/nodes/api-tele/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = cpu } });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var node = await Http.GetJson("/api/v1/nodes/api-tele");
            Assert.Equal((double?)cpu, node.GetProperty("utilization").TryGetProperty("cpu", out var u) ? u.GetDouble() : null);
        }
        await AssertProblem(await Http.Post("/api/v1/nodes/nowhere/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.1 } }), HttpStatusCode.NotFound, "nowhere");
        await AssertProblem(await Http.Post("/api/v1/nodes/api-tele/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 1.5 } }), HttpStatusCode.BadRequest, "between 0 and 1");
        await AssertProblem(await Http.Post("/api/v1/nodes/api-tele/telemetry", new { utilization = new Dictionary<string, double> { ["gpu"] = 0.5 } }), HttpStatusCode.BadRequest, "unknown resource");
    }

    /// <summary>
    /// A reading for a node that does not exist is a 404 that stores nothing: the node grain it activated wrote no record
    /// (one with no spec would still read as missing, so the store itself is asked).
    /// </summary>
    [Fact]
    public async Task Telemetry_for_a_missing_node_is_a_404_and_writes_no_node_record()
    {
        await AssertProblem(await Http.Post("/api/v1/nodes/tele-missing/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.1 } }), HttpStatusCode.NotFound, "tele-missing");
        var storage = fixture.Host.Services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
        var stored = new Orleans.GrainState<MasOrleans.Grains.Nodes.NodeState>();
        await storage.ReadStateAsync("node", Orleans.Runtime.GrainId.Create("mas-node", "tele-missing"), stored);
        Assert.False(stored.RecordExists, "a node record was written for a node that does not exist");
        // The check can see a record: a registered node's is there under the same name and grain type.
        await Http.Post("/api/v1/nodes", Requests.Node("tele-present"));
        var present = new Orleans.GrainState<MasOrleans.Grains.Nodes.NodeState>();
        await storage.ReadStateAsync("node", Orleans.Runtime.GrainId.Create("mas-node", "tele-present"), present);
        Assert.True(present.RecordExists);
    }

    [Fact]
    public async Task A_pod_is_accepted_then_scheduled_with_gpu_devices_scores_and_events_and_delete_frees_it()
    {
        await Http.Post("/api/v1/nodes", Requests.Node("api-gpu", gpus: "2", labels: new Dictionary<string, string> { ["pool"] = "api-gpu" }));
        var accepted = await Http.Post("/api/v1/pods", new
        {
            name = "api-p1",
            requests = new Dictionary<string, string> { ["cpu"] = "500m", ["memory"] = "512Mi", ["nvidia.com/gpu"] = "1" },
            nodeSelector = new Dictionary<string, string> { ["pool"] = "api-gpu" },
            priority = 5,
            image = "pytorch:2",
        });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("/api/v1/pods/api-p1", accepted.Headers.Location?.OriginalString);
        // The 202 carries the pod as stored by its create: Pending, with its spec and the Created event.
        var answered = await accepted.Json();
        Assert.Equal("api-p1", answered.GetProperty("name").GetString());
        Assert.Equal("Pending", answered.Phase());
        Assert.Equal(5, answered.GetProperty("priority").GetInt32());
        Assert.Equal("Created", Assert.Single(answered.GetProperty("events").EnumerateArray()).GetProperty("reason").GetString());
        var pod = await Http.WaitFor("/api/v1/pods/api-p1", p => p.Phase() == "Running");
        Assert.Equal("api-gpu", pod.GetProperty("nodeName").GetString());
        Assert.Equal(1, pod.GetProperty("gpuDevices").GetArrayLength());
        Assert.Contains(pod.GetProperty("events").EnumerateArray(), e => e.GetProperty("reason").GetString() == "Scheduled");

        var node = await Http.GetJson("/api/v1/nodes/api-gpu");
        Assert.Equal("1", node.GetProperty("allocated").GetProperty("nvidia.com/gpu").GetString());
        var list = await Http.GetJson("/api/v1/pods?limit=1000");
        Assert.Contains(list.GetProperty("items").EnumerateArray(), p => p.GetProperty("name").GetString() == "api-p1");

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/pods/api-p1")).StatusCode);
        var freed = await Http.GetJson("/api/v1/nodes/api-gpu");
        Assert.False(freed.GetProperty("allocated").TryGetProperty("nvidia.com/gpu", out _));
        await AssertProblem(await Http.GetAsync("/api/v1/pods/api-p1"), HttpStatusCode.NotFound, "api-p1");
        await AssertProblem(await Http.DeleteAsync("/api/v1/pods/api-p1"), HttpStatusCode.NotFound, "api-p1");
    }

    /// <summary>
    /// spec.activeDeadlineSeconds as the kubelet enforces it (pkg/kubelet/active_deadline.go): a pod running longer than
    /// it, counted from its start time (its bind), is Failed with reason DeadlineExceeded and the kubelet's message, though its container
    /// planned to run an hour, and its node room is released. Waited on with a generous bound: no timing is asserted.
    /// </summary>
    [Fact]
    public async Task A_pod_running_past_its_active_deadline_is_failed_and_its_node_room_released()
    {
        await Http.Post("/api/v1/nodes", new
        {
            name = "api-deadline-node",
            capacity = new Dictionary<string, string> { ["cpu"] = "4", ["memory"] = "8Gi", ["nvidia.com/gpu"] = "1" },
            labels = new Dictionary<string, string> { ["pool"] = "api-deadline" },
        });
        var accepted = await Http.Post("/api/v1/pods", new
        {
            name = "api-deadline",
            requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi", ["nvidia.com/gpu"] = "1" },
            nodeSelector = new Dictionary<string, string> { ["pool"] = "api-deadline" },
            expectedDurationSeconds = 3600,
            activeDeadlineSeconds = 2,
        });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(2, (await accepted.Json()).GetProperty("activeDeadlineSeconds").GetInt64());

        var pod = await Http.WaitFor("/api/v1/pods/api-deadline", p => p.Phase() is "Failed" or "Succeeded", timeoutSeconds: 60);
        Assert.Equal("Failed", pod.Phase());
        Assert.Equal("DeadlineExceeded", pod.GetProperty("reason").GetString());
        Assert.Equal(2, pod.GetProperty("activeDeadlineSeconds").GetInt64());
        var events = pod.GetProperty("events").EnumerateArray().ToList();
        Assert.Contains(events, e => e.GetProperty("reason").GetString() == "Started");
        var last = events[^1];
        Assert.Equal("DeadlineExceeded", last.GetProperty("reason").GetString());
        Assert.Equal("Pod was active on the node longer than the specified deadline", last.GetProperty("message").GetString());
        // Released after the Failed write (PodGrain.Finish): waited on, not read once.
        await Http.WaitFor("/api/v1/nodes/api-deadline-node", n => !n.GetProperty("allocated").TryGetProperty("nvidia.com/gpu", out _));
    }

    [Theory]
    [InlineData("cpu", "1x", "not a valid quantity")]
    [InlineData("memory", "", "not a valid quantity")]
    [InlineData("nvidia.com/gpus", "1", "unknown resource")]
    [InlineData("nvidia.com/gpu", "1.5", "whole number of GPUs")]
    [InlineData("cpu", "1e28", "exceeds the maximum")]
    [InlineData("memory", "1e100000", "exceeds the maximum")]
    [InlineData("memory", "-1E+300", "not a valid quantity")]
    public async Task Malformed_pod_requests_are_a_400_and_create_nothing(string resource, string quantity, string detail)
    {
        var response = await Http.Post("/api/v1/pods", new { name = "bad-pod", requests = new Dictionary<string, string> { [resource] = quantity } });
        await AssertProblem(response, HttpStatusCode.BadRequest, detail);
        await AssertProblem(await Http.GetAsync("/api/v1/pods/bad-pod"), HttpStatusCode.NotFound, "bad-pod");
    }

    [Fact]
    public async Task Pod_errors_are_problem_details()
    {
        await Http.Post("/api/v1/pods", Requests.Pod("api-dup-pod", cpu: "100"));
        await AssertProblem(await Http.Post("/api/v1/pods", Requests.Pod("api-dup-pod")), HttpStatusCode.Conflict, "already exists");
        await AssertProblem(await Http.Post("/api/v1/pods", Requests.Pod("api-pol", policy: "no-such-policy")), HttpStatusCode.BadRequest, "unknown policy");
        await AssertProblem(await Http.Post("/api/v1/pods", new { name = "api-tol", tolerations = new[] { new { key = "a", @operator = "Maybe" } } }), HttpStatusCode.BadRequest, "toleration operator");
        await AssertProblem(await Http.GetAsync("/api/v1/pods?offset=-1"), HttpStatusCode.BadRequest, "offset");
    }

    [Fact]
    public async Task A_pod_that_fits_nowhere_is_unschedulable_with_the_reason()
    {
        await Http.Post("/api/v1/pods", Requests.Pod("api-huge", cpu: "4000"));
        var pod = await Http.WaitFor("/api/v1/pods/api-huge", p => p.Phase() == "Unschedulable");
        var failed = pod.GetProperty("events").EnumerateArray().Last(e => e.GetProperty("reason").GetString() == "FailedScheduling");
        Assert.Contains("nodes are available", failed.GetProperty("message").GetString());
        var cluster = await Http.GetJson("/api/v1/cluster");
        Assert.True(cluster.GetProperty("pending").GetInt32() >= 1);
    }

    [Fact]
    public async Task Pod_listing_pages_with_offset_and_continue_token()
    {
        for (var i = 0; i < 5; i++) await Http.Post("/api/v1/pods", Requests.Pod($"page-{i}", cpu: "9999"));
        var first = await Http.GetJson("/api/v1/pods?limit=2");
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        var token = first.GetProperty("continue").GetString()!;
        var second = await Http.GetJson($"/api/v1/pods?limit=2&continue={token}");
        var firstNames = first.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        var secondNames = second.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Empty(firstNames.Intersect(secondNames));
        Assert.True(string.CompareOrdinal(firstNames[^1], secondNames[0]) < 0);
        var byOffset = await Http.GetJson("/api/v1/pods?offset=2&limit=2");
        Assert.Equal(secondNames, byOffset.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList());
    }

    [Fact]
    public async Task Workloads_create_scale_read_and_delete_their_pods()
    {
        await Http.Post("/api/v1/nodes", Requests.Node("api-wl", cpu: "64", memory: "256Gi"));
        var created = await Http.Post("/api/v1/workloads", new
        {
            name = "api-web",
            replicas = 3,
            template = new { requests = new Dictionary<string, string> { ["cpu"] = "100m", ["memory"] = "64Mi" }, image = "nginx" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ready = await Http.WaitFor("/api/v1/workloads/api-web", w => w.GetProperty("readyReplicas").GetInt32() == 3);
        Assert.All(ready.GetProperty("pods").EnumerateArray(), p => Assert.StartsWith("api-web-", p.GetProperty("name").GetString()));

        var scaled = await Http.PutAsJsonAsync("/api/v1/workloads/api-web/scale", new { replicas = 1 });
        Assert.Equal(HttpStatusCode.OK, scaled.StatusCode);
        Assert.Equal(1, (await scaled.Json()).GetProperty("pods").GetArrayLength());

        await AssertProblem(await Http.Post("/api/v1/workloads", new { name = "api-web", replicas = 1, template = new { } }), HttpStatusCode.Conflict, "already exists");
        await AssertProblem(await Http.Post("/api/v1/workloads", new { name = "api-bad", replicas = -1, template = new { } }), HttpStatusCode.BadRequest, "replicas");
        await AssertProblem(await Http.Post("/api/v1/workloads", new { name = "api-bad", replicas = 1, template = new { requests = new Dictionary<string, string> { ["cpu"] = "lots" } } }),
            HttpStatusCode.BadRequest, "not a valid quantity");
        await AssertProblem(await Http.PutAsJsonAsync("/api/v1/workloads/missing/scale", new { replicas = 1 }), HttpStatusCode.NotFound, "missing");

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/workloads/api-web")).StatusCode);
        await AssertProblem(await Http.GetAsync("/api/v1/workloads/api-web"), HttpStatusCode.NotFound, "api-web");
        await AssertProblem(await Http.DeleteAsync("/api/v1/workloads/api-web"), HttpStatusCode.NotFound, "api-web");
    }

    /// <summary>
    /// There was no list of workloads (GET answered 405). It lists what /k8s lists as deployments: workloads created
    /// here (these own no pod) and workloads owning a pod (one created through its grain, not this API), each as its
    /// GET shows it, in name order, paged and refused as pods and nodes are; a deleted one is no longer listed.
    /// </summary>
    [Fact]
    public async Task Workloads_are_listed_in_name_order_and_paged_as_pods_and_nodes_are()
    {
        foreach (var name in new[] { "list-c", "list-a", "list-b" })
            Assert.Equal(HttpStatusCode.Created, (await Http.Post("/api/v1/workloads", new { name, replicas = 0, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1m" } } })).StatusCode);
        var grains = fixture.Host.Services.GetRequiredService<IGrainFactory>();
        var owner = new MasOrleans.Scheduling.Model.PodSpec { Name = "list-owner", NodeSelector = new Dictionary<string, string> { ["pool"] = "none" } };
        Assert.True((await grains.GetGrain<MasOrleans.Abstractions.Grains.IWorkloadGrain>("list-owner").Create(owner, 1)).IsOk);

        static List<string> Names(System.Text.Json.JsonElement page) => page.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("name").GetString()!).ToList();
        var all = await Http.GetJson("/api/v1/workloads?limit=1000");
        var names = Names(all);
        Assert.Equal(["list-a", "list-b", "list-c", "list-owner"], names.Where(n => n.StartsWith("list-")));
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(names.Count, all.GetProperty("total").GetInt32());
        Assert.False(all.TryGetProperty("continue", out _));
        var listed = all.GetProperty("items").EnumerateArray().Single(w => w.GetProperty("name").GetString() == "list-b");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(listed.GetRawText()),
            System.Text.Json.Nodes.JsonNode.Parse((await Http.GetJson("/api/v1/workloads/list-b")).GetRawText())), listed.GetRawText());

        var first = await Http.GetJson("/api/v1/workloads?limit=2");
        Assert.Equal(names[..2], Names(first));
        Assert.Equal(names.Count, first.GetProperty("total").GetInt32());
        var token = first.GetProperty("continue").GetString()!;
        Assert.Equal(names[1], token);
        var second = await Http.GetJson($"/api/v1/workloads?limit=2&continue={token}");
        Assert.Equal(names.Skip(2).Take(2), Names(second));
        Assert.Equal(Names(second), Names(await Http.GetJson("/api/v1/workloads?offset=2&limit=2")));

        await AssertProblem(await Http.GetAsync("/api/v1/workloads?limit=0"), HttpStatusCode.BadRequest, "limit must be between 1 and 1000");
        await AssertProblem(await Http.GetAsync("/api/v1/workloads?limit=1001"), HttpStatusCode.BadRequest, "limit must be between 1 and 1000");
        await AssertProblem(await Http.GetAsync("/api/v1/workloads?offset=-1"), HttpStatusCode.BadRequest, "offset must be a whole number from 0 to 2147483647");
        await AssertProblem(await Http.GetAsync($"/api/v1/workloads?offset=1&continue={token}"), HttpStatusCode.BadRequest, "use either offset or continue, not both");
        await AssertProblem(await Http.GetAsync("/api/v1/workloads?limit=abc"), HttpStatusCode.BadRequest, "limit must be between 1 and 1000, not 'abc'");
        await AssertProblem(await Http.GetAsync("/api/v1/workloads?labelSelector=app%3Dweb"), HttpStatusCode.BadRequest,
            "unknown query parameter 'labelSelector': GET /api/v1/workloads takes offset, limit, continue");

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/workloads/list-b")).StatusCode);
        var after = await Http.GetJson("/api/v1/workloads?limit=1000");
        Assert.DoesNotContain("list-b", Names(after));
        Assert.Equal(names.Count - 1, after.GetProperty("total").GetInt32());
        foreach (var name in new[] { "list-a", "list-c", "list-owner" }) Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync($"/api/v1/workloads/{name}")).StatusCode);
    }

    /// <summary>A manual scale outside the workload's autoscale range was answered 200 with the count cut to the bound.</summary>
    [Fact]
    public async Task Scaling_an_autoscaled_workload_outside_its_range_is_a_conflict_that_changes_nothing()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.Post("/api/v1/workloads", new
        {
            name = "api-auto", replicas = 2, autoscale = new { minReplicas = 1, maxReplicas = 3 },
            template = new { requests = new Dictionary<string, string> { ["cpu"] = "1m" }, nodeSelector = new Dictionary<string, string> { ["pool"] = "none" } },
        })).StatusCode);
        await AssertProblem(await Http.PutAsJsonAsync("/api/v1/workloads/api-auto/scale", new { replicas = 5 }), HttpStatusCode.Conflict,
            "replicas 5 is outside autoscale's range: minReplicas 1, maxReplicas 3");
        await AssertProblem(await Http.PutAsJsonAsync("/api/v1/workloads/api-auto/scale", new { replicas = 0 }), HttpStatusCode.Conflict,
            "replicas 0 is outside autoscale's range: minReplicas 1, maxReplicas 3");
        Assert.Equal(2, (await Http.GetJson("/api/v1/workloads/api-auto")).GetProperty("replicas").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await Http.PutAsJsonAsync("/api/v1/workloads/api-auto/scale", new { replicas = 3 })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/v1/workloads/api-auto")).StatusCode);
    }

    [Fact]
    public async Task Scheduler_policies_are_listed_and_the_default_can_be_switched()
    {
        var policies = await Http.GetJson("/api/v1/scheduler/policies");
        var names = policies.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("kube", names);
        Assert.Contains("random", names);
        // The search policies over FGD are live policies too, not only the CLI's (each places a pod in the test below).
        Assert.Contains("fgd-ties", names);
        Assert.Contains("fgd-lookahead", names);
        await AssertProblem(await Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "nope" }), HttpStatusCode.BadRequest, "unknown policy");
        var switched = await Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "random" });
        Assert.Equal("random", (await switched.Json()).GetProperty("policy").GetString());
        Assert.Equal("random", (await Http.GetJson("/api/v1/scheduler/policies")).GetProperty("defaultPolicy").GetString());
        await Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "kube" });
    }

    [Fact]
    public async Task Every_catalog_policy_places_a_pod_when_the_pod_names_it()
    {
        var pool = new Dictionary<string, string> { ["pool"] = "every-policy" };
        // Room for every policy's half-GPU pod, however each packs them (two per GPU at best, one per GPU at worst), on
        // nodes of at most 8 GPUs as the paper's scores and the learned features expect.
        for (var n = 1; n <= 4; n++)
            await Http.Post("/api/v1/nodes", Requests.Node($"api-pol-{n}", cpu: "64", memory: "256Gi", gpus: "8", labels: pool));
        var policies = (await Http.GetJson("/api/v1/scheduler/policies")).GetProperty("policies").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()!).ToList();
        Assert.InRange(policies.Count, 1, 32);
        foreach (var policy in policies)
        {
            var accepted = await Http.Post("/api/v1/pods", new
            {
                name = $"api-by-{policy}",
                policy,
                requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi", ["nvidia.com/gpu"] = "500m" },
                nodeSelector = pool,
            });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        foreach (var policy in policies)
        {
            var pod = await Http.WaitFor($"/api/v1/pods/api-by-{policy}", p => p.Phase() is "Running" or "Unschedulable");
            Assert.True(pod.Phase() == "Running", $"policy {policy}: {pod}");
            Assert.Equal(policy, pod.GetProperty("scheduledBy").GetString());
        }
    }

    [Fact]
    public async Task Cluster_summary_health_swagger_and_dashboard_are_served()
    {
        await Http.Post("/api/v1/nodes", Requests.Node("api-sum", cpu: "10"));
        var cluster = await Http.GetJson("/api/v1/cluster");
        Assert.True(cluster.GetProperty("nodes").GetInt32() >= 1);
        Assert.True(cluster.GetProperty("allocationRatio").TryGetProperty("cpu", out _));
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/health")).StatusCode);

        var swagger = await Http.GetJson("/swagger/v1/swagger.json");
        var paths = swagger.GetProperty("paths").EnumerateObject().ToList();
        Assert.DoesNotContain(paths, p => p.Name.StartsWith("/dashboard"));
        // Every operation carries an example request (when it has a body) and an example response.
        foreach (var path in paths)
        {
            foreach (var op in path.Value.EnumerateObject())
            {
                var text = op.Value.GetRawText();
                if (op.Value.TryGetProperty("requestBody", out _)) Assert.True(text.Contains("\"example\""), $"{op.Name} {path.Name} has no example");
                // A delete's 204 has no body to show; one whose success has a body (a node's 202 Draining) shows it.
                var responses = op.Value.GetProperty("responses");
                var successHasBody = responses.EnumerateObject().Any(r => r.Name.StartsWith('2') && r.Value.TryGetProperty("content", out _));
                if (op.Name != "delete" || successHasBody) Assert.True(responses.GetRawText().Contains("\"example\""), $"{op.Name} {path.Name} has no response example");
            }
        }
        var dashboard = await Http.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
    }
}
