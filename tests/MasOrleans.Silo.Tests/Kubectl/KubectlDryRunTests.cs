using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// Server dry runs as kubectl sends them: ?dryRun=All on a create or patch (kubectl diff, create/apply --dry-run=server),
/// DeleteOptions.dryRun on a delete, and an Eviction's deleteOptions.dryRun (kubectl drain --dry-run=server). The API
/// server judges a dry run as the write and answers the object as it would be, storing nothing
/// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go, patch.go, delete.go; pkg/registry/generic/registry/dryrun.go).
/// Each test uses its own node label, so pods land only where the test expects.
/// </summary>
public sealed class KubectlDryRunTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <summary>
    /// kubectl v1.32 diff (staging/src/k8s.io/kubectl/pkg/cmd/diff/diff.go, InfoObject.Merged) GETs each object, then
    /// dry-runs apply's patch of an existing one and a create of a missing one, and diffs what the server answers with
    /// the live object: exit 0 when they are the same, 1 when they differ.
    /// </summary>
    [Fact]
    public async Task Diff_shows_a_changed_label_and_a_new_pod_and_changes_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("diff-node", KubeManifests.Node("kd-diff", "kd-diff")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("diff-pod", KubeManifests.Pod("kd-diff-pod", "kd-diff", extraMetadata: "  labels:\n    tier: a")))).Succeeded();
        await kube.WaitFor("pod/kd-diff-pod", "{.status.phase}", p => p == "Running");
        // Listed, the pod keeps its resourceVersion on this silo (a GET before its first listing serves a moving one).
        (await kube.Run("get", "pods")).Succeeded();
        var before = await kube.Get("pod/kd-diff-pod", "{.metadata.resourceVersion} {.metadata.labels.tier}");

        var unchanged = await kube.Run("diff", "-f", kube.Manifest("diff-pod", KubeManifests.Pod("kd-diff-pod", "kd-diff", extraMetadata: "  labels:\n    tier: a")));
        Assert.True(unchanged.ExitCode == 0 && unchanged.Output.Trim() == "", unchanged.ToString());

        var relabeled = await kube.Run("diff", "-f", kube.Manifest("diff-pod-b", KubeManifests.Pod("kd-diff-pod", "kd-diff", extraMetadata: "  labels:\n    tier: b")));
        Assert.True(relabeled.ExitCode == 1, relabeled.ToString());
        Assert.Contains("\n-    tier: a\n", relabeled.Output);
        Assert.Contains("\n+    tier: b\n", relabeled.Output);

        var added = await kube.Run("diff", "-f", kube.Manifest("diff-new", KubeManifests.Pod("kd-diff-new", "kd-diff")));
        Assert.True(added.ExitCode == 1, added.ToString());
        Assert.Contains("\n+  name: kd-diff-new\n", added.Output);
        // Added whole: diff's hunk starts from nothing, and no line is taken away (but its "--- LIVE" header).
        Assert.Contains("\n@@ -0,0 ", added.Output);
        Assert.DoesNotMatch("\n-(?!-- )", added.Output);

        (await kube.Run("get", "pods")).Succeeded();
        Assert.Equal(before, await kube.Get("pod/kd-diff-pod", "{.metadata.resourceVersion} {.metadata.labels.tier}"));
        Assert.Contains("NotFound", (await kube.Run("get", "pod", "kd-diff-new")).Error);
    }

    /// <summary>A dry-run create answers 201 with the pod as created (defaulted, named), and nothing is stored or scheduled.</summary>
    [Fact]
    public async Task Create_dry_run_prints_the_pod_and_creates_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("create-node", KubeManifests.Node("kd-create", "kd-create")))).Succeeded();
        var printed = (await kube.Run("create", "--dry-run=server", "-o", "yaml", "-f", kube.Manifest("create-pod", KubeManifests.Pod("kd-create-pod", "kd-create")))).Succeeded();
        Assert.Contains("kind: Pod", printed.Output);
        Assert.Contains("  name: kd-create-pod\n", printed.Output);
        Assert.Contains("phase: Pending", printed.Output);
        // The grain's own default: a pod's uid is served from its creation.
        Assert.Matches("\n  uid: [0-9a-f-]{36}\n", printed.Output);

        Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync("api/v1/namespaces/default/pods/kd-create-pod")).StatusCode);
        Assert.Equal("", (await kube.Run("get", "pods", "--field-selector", "spec.nodeName=kd-create", "-o", "name")).Succeeded().Output.Trim());
        Assert.Equal("", (await kube.Run("get", "pods", "-o", "name", "--field-selector", "metadata.name=kd-create-pod")).Succeeded().Output.Trim());
    }

    /// <summary>
    /// A dry run is judged as the write is: an invalid pod, a name taken and a patch of an immutable field get the
    /// real request's Status; a dryRun value other than All is 422, as ValidateDryRun answers
    /// (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: NotSupported, only "All").
    /// </summary>
    [Fact]
    public async Task A_dry_run_of_an_invalid_write_gets_the_real_requests_error()
    {
        (await kube.Run("apply", "-f", kube.Manifest("invalid-node", KubeManifests.Node("kd-invalid", "kd-invalid")))).Succeeded();
        var invalid = kube.Manifest("invalid-pod", KubeManifests.Pod("kd-invalid-pod", "kd-invalid", extraSpec: "  priorityClassName: gold"));
        var dryRun = await kube.Run("create", "--dry-run=server", "-f", invalid);
        var real = await kube.Run("create", "-f", invalid);
        Assert.True(dryRun.ExitCode != 0 && real.ExitCode != 0, $"{dryRun}\n{real}");
        Assert.Contains("spec.priorityClassName", real.Error);
        Assert.Equal(real.Error, dryRun.Error);

        var valid = kube.Manifest("valid-pod", KubeManifests.Pod("kd-valid-pod", "kd-invalid"));
        (await kube.Run("create", "-f", valid)).Succeeded();
        var taken = await kube.Run("create", "--dry-run=server", "-f", valid);
        Assert.Contains("pods \"kd-valid-pod\" already exists", taken.Error);
        var image = await kube.Run("set", "image", "pod/kd-valid-pod", "main=busybox:1.37", "--dry-run=server");
        Assert.True(image.ExitCode != 0, image.ToString());
        var realImage = await kube.Run("set", "image", "pod/kd-valid-pod", "main=busybox:1.37");
        Assert.Equal(realImage.Error, image.Error);

        var bogus = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods?dryRun=Bogus", Json(PodJson("kd-bogus", "kd-bogus"))), (HttpStatusCode)422, "Invalid");
        Assert.Equal("CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Bogus\"}: supported values: \"All\"", bogus.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync("api/v1/namespaces/default/pods/kd-bogus")).StatusCode);
    }

    /// <summary>
    /// kubectl delete --dry-run=server sends DeleteOptions.dryRun (staging/src/k8s.io/kubectl/pkg/cmd/delete/delete.go);
    /// kubectl drain --dry-run=server dry-runs the cordon patch and each Eviction (pkg/drain/drain.go, cordon.go). Each is
    /// answered as done, and the pod, the deployment and the node stay as they were (a node's delete dry run:
    /// KubectlNodeDeleteDryRunTests).
    /// </summary>
    [Fact]
    public async Task Delete_and_drain_dry_runs_leave_everything_as_it_was()
    {
        (await kube.Run("apply", "-f", kube.Manifest("dry-node", KubeManifests.Node("kd-dry", "kd-dry")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("dry-pod", KubeManifests.Pod("kd-dry-pod", "kd-dry")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("dry-deploy", KubeManifests.Deployment("kd-dry-web", "kd-dry", 1)))).Succeeded();
        await kube.WaitFor("pod/kd-dry-pod", "{.status.phase}", p => p == "Running");
        await kube.WaitFor("deployment/kd-dry-web", "{.status.readyReplicas}", r => r == "1");
        var before = await kube.Get("pods", "{.items[?(@.spec.nodeName==\"kd-dry\")].metadata.name}");

        Assert.Equal("pod \"kd-dry-pod\" deleted (server dry run)", (await kube.Run("delete", "pod/kd-dry-pod", "--dry-run=server")).Succeeded().Output.Trim());
        Assert.Equal("deployment.apps \"kd-dry-web\" deleted (server dry run)", (await kube.Run("delete", "deployment/kd-dry-web", "--dry-run=server")).Succeeded().Output.Trim());
        var drained = (await kube.Run("drain", "kd-dry", "--dry-run=server", "--force", "--ignore-daemonsets", "--timeout=20s")).Succeeded();
        Assert.Contains("node/kd-dry cordoned (server dry run)", drained.Output);
        Assert.Contains("evicting pod default/kd-dry-pod (server dry run)", drained.Error + drained.Output);

        Assert.Equal(before, await kube.Get("pods", "{.items[?(@.spec.nodeName==\"kd-dry\")].metadata.name}"));
        Assert.Equal("Running", await kube.Get("pod/kd-dry-pod", "{.status.phase}"));
        Assert.Equal("1", await kube.Get("deployment/kd-dry-web", "{.spec.replicas}"));
        Assert.Equal("", await kube.Get("node/kd-dry", "{.spec.unschedulable}"));
    }

    /// <summary>
    /// An Eviction's dry run, in its deleteOptions or the query (pkg/registry/core/pod/storage/eviction.go, propagateDryRun),
    /// is answered 201 and evicts nothing; a dryRun value other than All is 422 there too.
    /// </summary>
    [Fact]
    public async Task Eviction_dry_run_in_its_delete_options_or_query_evicts_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("evict-node", KubeManifests.Node("kd-evict", "kd-evict")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("evict-pod", KubeManifests.Pod("kd-evict-pod", "kd-evict")))).Succeeded();
        await kube.WaitFor("pod/kd-evict-pod", "{.status.phase}", p => p == "Running");

        const string inOptions = """{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"kd-evict-pod"},"deleteOptions":{"dryRun":["All"]}}""";
        const string plain = """{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"kd-evict-pod"}}""";
        const string bogus = """{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"kd-evict-pod"},"deleteOptions":{"dryRun":["Some"]}}""";
        foreach (var (query, body) in new[] { ("", inOptions), ("?dryRun=All", plain) })
        {
            using var response = await kube.Http.PostAsync($"api/v1/namespaces/default/pods/kd-evict-pod/eviction{query}", Json(body));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal("Success", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }
        var refused = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods/kd-evict-pod/eviction", Json(bogus)), (HttpStatusCode)422, "Invalid");
        Assert.StartsWith("DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value", refused.GetProperty("message").GetString());

        Assert.Equal("Running kd-evict", await kube.Get("pod/kd-evict-pod", "{.status.phase} {.spec.nodeName}"));
    }

    /// <summary>
    /// A node's dry-run create answers the node as registered (NodeGrain.Register refuses only a name taken) and
    /// registers nothing; one whose name is taken is 409 as the real create; kubectl diff of a changed label shows it.
    /// </summary>
    [Fact]
    public async Task Node_create_and_patch_dry_runs_register_and_change_nothing()
    {
        var created = (await kube.Run("create", "--dry-run=server", "-o", "jsonpath={.metadata.name} {.metadata.labels.test} {.status.capacity.cpu}",
            "-f", kube.Manifest("node-new", KubeManifests.Node("kd-node-new", "kd-node", cpu: "8")))).Succeeded();
        Assert.Equal("kd-node-new kd-node 8", created.Output.Trim());
        Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync("api/v1/nodes/kd-node-new")).StatusCode);
        Assert.Equal("", (await kube.Run("get", "nodes", "-o", "name", "--field-selector", "metadata.name=kd-node-new")).Succeeded().Output.Trim());

        var manifest = kube.Manifest("node-old", KubeManifests.Node("kd-node-old", "kd-node"));
        (await kube.Run("apply", "-f", manifest)).Succeeded();
        var taken = await kube.Run("create", "--dry-run=server", "-f", manifest);
        Assert.Contains("nodes \"kd-node-old\" already exists", taken.Error);
        var relabeled = await kube.Run("diff", "-f", kube.Manifest("node-old-b", KubeManifests.Node("kd-node-old", "kd-node-b")));
        Assert.True(relabeled.ExitCode == 1, relabeled.ToString());
        Assert.Contains("\n-    test: kd-node\n", relabeled.Output);
        Assert.Contains("\n+    test: kd-node-b\n", relabeled.Output);
        Assert.Equal("kd-node", await kube.Get("node/kd-node-old", "{.metadata.labels.test}"));
    }

    /// <summary>
    /// A node being deleted refuses to be uncordoned (NodeGrain.Patch, NodePatch.RefusedWhileDraining): the dry run of
    /// kubectl uncordon gets the real one's error, and the node stays cordoned.
    /// </summary>
    [Fact]
    public async Task Uncordoning_a_node_being_deleted_is_refused_by_its_dry_run_as_by_the_real_one()
    {
        (await kube.Run("apply", "-f", kube.Manifest("draining-node", KubeManifests.Node("kd-draining", "kd-draining")))).Succeeded();
        // A reservation whose pod never records it refuses eviction, so the deletion stays under way (as in ApiTests).
        var node = kube.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<MasOrleans.Abstractions.Grains.INodeGrain>("kd-draining");
        var ghost = new MasOrleans.Scheduling.Model.PodSpec { Name = "kd-draining-ghost", Requests = MasOrleans.Scheduling.Resources.ResourceVector.Of(cpuMilli: 1000) };
        // Reconciliation frees such a reservation, with a Warning, once two passes 10 s apart saw it: released at the end
        // (left, it failed the class's log check 2 runs in 3), and expected should the test itself take that long.
        kube.Host.Log.Expect(System.Text.RegularExpressions.Regex.Escape($"Reconciled: node kd-draining held a reservation for pod {ghost.Name} which is gone; released"));
        Assert.True((await node.Reserve(ghost, MasOrleans.Scheduling.Model.GpuAllocation.None)).Reserved);
        using (var deleting = await kube.Http.DeleteAsync("../api/v1/nodes/kd-draining?force=true"))
            Assert.Equal(HttpStatusCode.Accepted, deleting.StatusCode);

        var dryRun = await kube.Run("uncordon", "kd-draining", "--dry-run=server");
        var real = await kube.Run("uncordon", "kd-draining");
        // kubectl v1.32's uncordon prints a refused patch and still exits 0, so its words tell.
        Assert.Contains("is being deleted; it stays unschedulable until it is gone", real.Error);
        Assert.Equal(real.Error, dryRun.Error);
        Assert.Equal("true", await kube.Get("node/kd-draining", "{.spec.unschedulable}"));
        await node.Release(ghost.Name);
    }

    /// <summary>
    /// A deployment's dry runs: a create answers it as created and makes no workload nor pod; kubectl diff of changed
    /// replicas shows them; kubectl scale --dry-run=server answers scaled and scales nothing; a scale an autoscaled
    /// workload refuses (WorkloadGrain.Scale) is refused by its dry run in the same words.
    /// </summary>
    [Fact]
    public async Task Deployment_create_patch_and_scale_dry_runs_change_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("web-node", KubeManifests.Node("kd-web", "kd-web")))).Succeeded();
        var created = (await kube.Run("create", "--dry-run=server", "-o", "jsonpath={.metadata.name} {.spec.replicas}",
            "-f", kube.Manifest("web-new", KubeManifests.Deployment("kd-web-new", "kd-web", 2)))).Succeeded();
        Assert.Equal("kd-web-new 2", created.Output.Trim());
        Assert.Contains("NotFound", (await kube.Run("get", "deployment", "kd-web-new")).Error);
        Assert.Equal("", (await kube.Run("get", "pods", "-l", "app=kd-web-new", "-o", "name")).Succeeded().Output.Trim());

        (await kube.Run("apply", "-f", kube.Manifest("web", KubeManifests.Deployment("kd-web", "kd-web", 1)))).Succeeded();
        await kube.WaitFor("deployment/kd-web", "{.status.readyReplicas}", r => r == "1");
        var diff = await kube.Run("diff", "-f", kube.Manifest("web-two", KubeManifests.Deployment("kd-web", "kd-web", 2)));
        Assert.True(diff.ExitCode == 1, diff.ToString());
        Assert.Contains("\n-  replicas: 1\n", diff.Output);
        Assert.Contains("\n+  replicas: 2\n", diff.Output);
        Assert.Equal("deployment.apps/kd-web scaled (server dry run)", (await kube.Run("scale", "deployment", "kd-web", "--replicas=3", "--dry-run=server")).Succeeded().Output.Trim());
        Assert.Equal("1", await kube.Get("deployment/kd-web", "{.spec.replicas}"));
        Assert.Single((await kube.Run("get", "pods", "-l", "app=kd-web", "-o", "name")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        using (var autoscaled = await kube.Http.PostAsync("../api/v1/workloads", Json("""
            {"name":"kd-auto","replicas":2,"autoscale":{"minReplicas":1,"maxReplicas":3},
             "template":{"requests":{"cpu":"1m"},"labels":{"app":"kd-auto"},"nodeSelector":{"test":"none"}}}
            """)))
            Assert.Equal(HttpStatusCode.Created, autoscaled.StatusCode);
        var dryRun = await kube.Run("scale", "deployment", "kd-auto", "--replicas=5", "--dry-run=server");
        var real = await kube.Run("scale", "deployment", "kd-auto", "--replicas=5");
        Assert.True(dryRun.ExitCode != 0 && real.ExitCode != 0, $"{dryRun}\n{real}");
        Assert.Contains("replicas 5 is outside autoscale's range: minReplicas 1, maxReplicas 3", dryRun.Error);
        Assert.Equal(real.Error, dryRun.Error);
    }

    /// <summary>
    /// kubectl diff (diff.go, InfoObject.Merged) GETs a deployment, then dry-runs apply's patch carrying the live
    /// resourceVersion, and masks no resourceVersion: the API server answers an unchanged patch at the live object's
    /// version (pkg/registry/generic/registry/store.go, Update: no change, no new version). A deployment here was served at
    /// the silo-wide version, which moved with any pod's change between the GET and the patch; the dry run's answer was
    /// stamped with the moved one, and diff showed a resourceVersion hunk (exit 1) for an unchanged deployment. Its
    /// version now names its state (KubeCache.ReadDeployment), so another pod's change leaves it.
    /// </summary>
    [Fact]
    public async Task An_unchanged_deployment_diffs_clean_while_other_pods_change()
    {
        (await kube.Run("apply", "-f", kube.Manifest("still-node", KubeManifests.Node("kd-still", "kd-still")))).Succeeded();
        var deployment = kube.Manifest("still", KubeManifests.Deployment("kd-still", "kd-still", 1));
        (await kube.Run("apply", "-f", deployment)).Succeeded();
        await kube.WaitFor("deployment/kd-still", "{.status.readyReplicas}", r => r == "1");
        const string path = "apis/apps/v1/namespaces/default/deployments/kd-still";
        var live = await Version(await kube.Http.GetAsync(path));
        var liveScale = await Version(await kube.Http.GetAsync($"{path}/scale"));

        // Another pod is created and placed, and listed: the silo-wide version moves on, the deployment's does not.
        var other = kube.Manifest("still-other", KubeManifests.Pod("kd-still-other", "kd-still"));
        (await kube.Run("apply", "-f", other)).Succeeded();
        await kube.WaitFor("pod/kd-still-other", "{.status.phase}", p => p == "Running");
        (await kube.Run("get", "pods")).Succeeded();
        Assert.Equal(live, await Version(await kube.Http.GetAsync(path)));

        Assert.Equal(live, await Version(await Patch($"{path}?dryRun=All", $$$"""{"metadata":{"resourceVersion":"{{{live}}}"}}""")));
        Assert.Equal(liveScale, await Version(await Patch($"{path}/scale?dryRun=All", $$$"""{"metadata":{"resourceVersion":"{{{liveScale}}}"},"spec":{"replicas":1}}""")));
        var unchanged = await kube.Run("diff", "-f", deployment);
        Assert.True(unchanged.ExitCode == 0 && unchanged.Output.Trim() == "", unchanged.ToString());
        var unchangedPod = await kube.Run("diff", "-f", other);
        Assert.True(unchangedPod.ExitCode == 0 && unchangedPod.Output.Trim() == "", unchangedPod.ToString());
    }

    /// <summary>
    /// The API server reads a DELETE's options from its query when it has no body (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go):
    /// ?dryRun=All alone is a dry run, answered with the pod, and the pod stays.
    /// </summary>
    [Fact]
    public async Task A_delete_dry_run_in_the_query_alone_leaves_the_pod()
    {
        (await kube.Run("apply", "-f", kube.Manifest("query-node", KubeManifests.Node("kd-query", "kd-query")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("query-pod", KubeManifests.Pod("kd-query-pod", "kd-query")))).Succeeded();
        await kube.WaitFor("pod/kd-query-pod", "{.status.phase}", p => p == "Running");

        using (var deleted = await kube.Http.DeleteAsync("api/v1/namespaces/default/pods/kd-query-pod?dryRun=All"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            Assert.Equal("kd-query-pod", JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement.GetProperty("metadata").GetProperty("name").GetString());
        }
        Assert.Equal("Running kd-query", await kube.Get("pod/kd-query-pod", "{.status.phase} {.spec.nodeName}"));
        Assert.Equal("", await kube.Get("pod/kd-query-pod", "{.metadata.deletionTimestamp}"));
    }

    /// <summary>
    /// A pod created through the REST API is stored without limits; a real patch of it takes its manifest's limits once
    /// (IPodGrain.KnowLimits). A dry run judges them and stores nothing: the pod is served as before, at the same version.
    /// </summary>
    [Fact]
    public async Task A_dry_run_patch_of_a_pod_made_through_rest_stores_no_limits()
    {
        using (var created = await kube.Http.PostAsync("../api/v1/pods", Json("""
            {"name":"kd-rest-pod","requests":{"cpu":"1","memory":"1Gi"},"nodeSelector":{"test":"kd-rest-none"}}
            """)))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        (await kube.Run("get", "pods")).Succeeded();
        const string path = "api/v1/namespaces/default/pods/kd-rest-pod";
        var before = await (await kube.Http.GetAsync(path)).Content.ReadAsStringAsync();
        var container = JsonDocument.Parse(before).RootElement.GetProperty("spec").GetProperty("containers")[0];
        Assert.False(container.TryGetProperty("resources", out var resources) && resources.TryGetProperty("limits", out _), before);

        using (var patched = await Patch($"{path}?dryRun=All", """
            {"metadata":{"labels":{"tier":"b"}},"spec":{"containers":[{"name":"NAME",
             "resources":{"requests":{"cpu":"1","memory":"1Gi"},"limits":{"cpu":"2","memory":"2Gi"}}}]}}
            """.Replace("NAME", container.GetProperty("name").GetString())))
        {
            var answer = await patched.Content.ReadAsStringAsync();
            Assert.True(patched.StatusCode == HttpStatusCode.OK, answer);
            Assert.Equal("b", JsonDocument.Parse(answer).RootElement.GetProperty("metadata").GetProperty("labels").GetProperty("tier").GetString());
        }
        // Listed again, so a pod the dry run changed would be served changed and at a new version.
        (await kube.Run("get", "pods")).Succeeded();
        Assert.Equal(before, await (await kube.Http.GetAsync(path)).Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> Patch(string path, string body) =>
        kube.Http.SendAsync(new HttpRequestMessage(HttpMethod.Patch, path) { Content = Json(body, "application/merge-patch+json") });

    private static async Task<string> Version(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            return JsonDocument.Parse(text).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString()!;
        }
    }
}
