using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Runtime;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// kubectl delete node --dry-run=server (DeleteOptions.dryRun): the API server judges a dry-run delete as the delete and
/// answers as it would, persisting nothing (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, Delete;
/// dryrun.go, DryRunnableStorage.Delete). Whether a node goes at once, drains or is refused is its grain's rule
/// (NodeGrain.Delete): its dry run gets the real delete's status and body, and the node and its pods stay as they were,
/// read back through the API, and again after the node grain is deactivated (so from what it stored, not only from its memory).
/// </summary>
public sealed class KubectlNodeDeleteDryRunTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    [Fact]
    public async Task An_empty_nodes_dry_run_delete_answers_success_as_the_delete_and_keeps_it()
    {
        (await kube.Run("apply", "-f", kube.Manifest("empty-node", KubeManifests.Node("kn-empty", "kn-empty")))).Succeeded();
        var before = await Snapshot("kn-empty");

        Assert.Equal("node \"kn-empty\" deleted (server dry run)", (await kube.Run("delete", "node/kn-empty", "--dry-run=server")).Succeeded().Output.Trim());
        var dryRun = await Deleted("api/v1/nodes/kn-empty?dryRun=All", HttpStatusCode.OK);
        Assert.Equal(before, await Snapshot("kn-empty"));
        await Reload("kn-empty");
        Assert.Equal(before, await Snapshot("kn-empty"));

        var real = await Deleted("api/v1/nodes/kn-empty", HttpStatusCode.OK);
        Assert.Equal(Shape(real), Shape(dryRun));
        Assert.Equal("Status Success kn-empty nodes", $"{Shape(dryRun)} {dryRun.GetProperty("status").GetString()} {dryRun.GetProperty("details").GetProperty("name").GetString()} {dryRun.GetProperty("details").GetProperty("kind").GetString()}");
        Assert.Contains("NotFound", (await kube.Run("get", "node", "kn-empty")).Error);
    }

    /// <summary>
    /// A node whose pods a workload recreates would drain: 202 with the node cordoned, as the delete answers; its dry run
    /// cordons, stores and evicts nothing, and the node still takes new pods (a draining node refuses every reservation).
    /// </summary>
    [Fact]
    public async Task A_dry_run_delete_of_a_node_that_would_drain_answers_it_cordoned_and_evicts_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("drain-node", KubeManifests.Node("kn-drain", "kn-drain")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("drain-web", KubeManifests.Deployment("kn-drain-web", "kn-drain", 1)))).Succeeded();
        await kube.WaitFor("deployment/kn-drain-web", "{.status.readyReplicas}", r => r == "1");
        var before = await Snapshot("kn-drain");

        Assert.Equal("node \"kn-drain\" deleted (server dry run)", (await kube.Run("delete", "node/kn-drain", "--dry-run=server")).Succeeded().Output.Trim());
        var dryRun = await Deleted("api/v1/nodes/kn-drain?dryRun=All", HttpStatusCode.Accepted);
        Assert.Equal("Node kn-drain", $"{Shape(dryRun)} {dryRun.GetProperty("metadata").GetProperty("name").GetString()}");
        Assert.True(dryRun.GetProperty("spec").GetProperty("unschedulable").GetBoolean());
        Assert.Equal(before, await Snapshot("kn-drain"));
        await Reload("kn-drain");
        Assert.Equal(before, await Snapshot("kn-drain"));
        (await kube.Run("scale", "deployment/kn-drain-web", "--replicas=2")).Succeeded();
        await kube.WaitFor("deployment/kn-drain-web", "{.status.readyReplicas}", r => r == "2");
        Assert.Equal("kn-drain kn-drain", (await kube.Run("get", "pods", "-l", "app=kn-drain-web", "-o", "jsonpath={.items[*].spec.nodeName}")).Succeeded().Output);

        var real = await Deleted("api/v1/nodes/kn-drain", HttpStatusCode.Accepted);
        Assert.Equal(Shape(real), Shape(dryRun));
        Assert.True(real.GetProperty("spec").GetProperty("unschedulable").GetBoolean());
    }

    /// <summary>
    /// A pod no workload manages makes the grain refuse the delete (409, kubectl drain's rule) unless ?force=true: the dry
    /// run gets the real refusal's words, and with force the drain's 202; either way nothing changes. The pod is named as
    /// kubectl users see it, namespace/name (as kubectl drain names pods), not by its key (kn-team.kn-bare-pod).
    /// </summary>
    [Fact]
    public async Task A_dry_run_delete_the_grain_refuses_gets_the_real_refusal_and_changes_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("bare-node", KubeManifests.Node("kn-bare", "kn-bare")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("bare-pod", KubeManifests.Pod("kn-bare-pod", "kn-bare", extraMetadata: "  namespace: kn-team")))).Succeeded();
        await kube.WaitFor("pod/kn-bare-pod -n kn-team", "{.status.phase}", p => p == "Running");
        var before = await Snapshot("kn-bare");

        var dryRun = await kube.Run("delete", "node/kn-bare", "--dry-run=server");
        Assert.True(dryRun.ExitCode != 0, dryRun.ToString());
        Assert.Contains("Error from server (Conflict): Operation cannot be fulfilled on nodes \"kn-bare\": node 'kn-bare' holds 1 pod(s) no workload manages (kn-team/kn-bare-pod)", dryRun.Error);
        await Status(await kube.Http.DeleteAsync("api/v1/nodes/kn-bare?dryRun=All"), HttpStatusCode.Conflict, "Conflict");
        var forced = await Deleted("api/v1/nodes/kn-bare?dryRun=All&force=true", HttpStatusCode.Accepted);
        Assert.Equal("Node", Shape(forced));
        Assert.True(forced.GetProperty("spec").GetProperty("unschedulable").GetBoolean());
        Assert.Equal(before, await Snapshot("kn-bare"));
        await Reload("kn-bare");
        Assert.Equal(before, await Snapshot("kn-bare"));

        var real = await kube.Run("delete", "node/kn-bare");
        Assert.Equal(real.Error, dryRun.Error);
        Assert.Equal(before, await Snapshot("kn-bare"));
    }

    /// <summary>A missing node's dry-run delete is the delete's 404; a dryRun value other than All is 422, as for the other kinds.</summary>
    [Fact]
    public async Task A_dry_run_delete_of_a_missing_node_is_not_found_and_a_bad_dry_run_value_is_invalid()
    {
        var dryRun = await kube.Run("delete", "node/kn-missing", "--dry-run=server");
        var real = await kube.Run("delete", "node/kn-missing");
        Assert.Contains("Error from server (NotFound): nodes \"kn-missing\" not found", dryRun.Error);
        Assert.Equal(real.Error, dryRun.Error);
        await Status(await kube.Http.DeleteAsync("api/v1/nodes/kn-missing?dryRun=All"), HttpStatusCode.NotFound, "NotFound");

        (await kube.Run("apply", "-f", kube.Manifest("bogus-node", KubeManifests.Node("kn-bogus", "kn-bogus")))).Succeeded();
        var inQuery = await Status(await kube.Http.DeleteAsync("api/v1/nodes/kn-bogus?dryRun=Bogus"), (HttpStatusCode)422, "Invalid");
        Assert.Equal("DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Bogus\"}: supported values: \"All\"", inQuery.GetProperty("message").GetString());
        using var inBody = new HttpRequestMessage(HttpMethod.Delete, "api/v1/nodes/kn-bogus") { Content = Json("""{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["Some"]}""") };
        var refused = await Status(await kube.Http.SendAsync(inBody), (HttpStatusCode)422, "Invalid");
        Assert.StartsWith("DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Some\"}", refused.GetProperty("message").GetString());
        Assert.Equal("kn-bogus", await kube.Get("node/kn-bogus", "{.metadata.name}"));
    }

    /// <summary>The node as the API serves it (its spec: cordon, taints) and its pods (uid, node, phase, whether deleting).</summary>
    private async Task<string> Snapshot(string node) =>
        await kube.Get($"node/{node}", "{.metadata.name} {.metadata.labels} {.spec} {.status.capacity}") + "\n" +
        (await kube.Run("get", "pods", "-A", "--field-selector", $"spec.nodeName={node}", "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{\"\\n\"}{end}")).Succeeded().Output;

    /// <summary>Deactivates the node grain: the next read of it through the API is of what it stored.</summary>
    private ValueTask Reload(string node) =>
        kube.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>(node).Cast<IGrainManagementExtension>().DeactivateOnIdle();

    private async Task<JsonElement> Deleted(string path, HttpStatusCode expected)
    {
        using var response = await kube.Http.DeleteAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string Shape(JsonElement body) => body.GetProperty("kind").GetString()!;
}
