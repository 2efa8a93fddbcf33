using System.Net;
using System.Text;
using System.Text.Json;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// The write verbs as kubectl sends them (and as the API server answers them): what is refused changes nothing, what
/// succeeds is what was asked. Each test uses its own node label, so pods land only where the test expects.
/// </summary>
public sealed class KubectlWritesTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string body, string type = "application/json")
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, type) };
        return await kube.Http.SendAsync(request);
    }

    /// <summary>
    /// A create is refused before anything is made when its object names a namespace other than its path's, in the API
    /// server's words: apiserver pkg/registry/rest/meta.go, EnsureObjectNamespaceMatchesRequestNamespace (BadRequest).
    /// (Dry runs: KubectlDryRunTests.)
    /// </summary>
    [Fact]
    public async Task A_create_with_another_namespace_in_its_object_is_a_400_and_creates_nothing()
    {
        const string pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"kw-elsewhere"NS},"spec":{"containers":[{"name":"main","image":"busybox:1.36"}]}}""";
        const string deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"kw-elsewhere"NS},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"kw-elsewhere"}},"template":{"metadata":{"labels":{"app":"kw-elsewhere"}},"spec":{"containers":[{"name":"main","image":"busybox:1.36"}]}}}}""";
        foreach (var (path, body) in new[] { ("api/v1/namespaces/default/pods", pod), ("apis/apps/v1/namespaces/default/deployments", deployment) })
        {
            var elsewhere = await Status(await kube.Http.PostAsync(path, Json(body.Replace("NS", ",\"namespace\":\"other\""))), HttpStatusCode.BadRequest, "BadRequest");
            Assert.Equal("the namespace of the provided object does not match the namespace sent on the request", elsewhere.GetProperty("message").GetString());
            Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync($"{path}/kw-elsewhere")).StatusCode);
        }
    }

    /// <summary>
    /// kubectl apply sends a three-way merge patch that leaves out what the manifest leaves out
    /// (staging/src/k8s.io/kubectl/pkg/cmd/apply/patcher.go, apimachinery's strategicpatch.CreateThreeWayMergePatch), and
    /// the API server applies it to the stored object (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go): a
    /// manifest without replicas keeps the replicas kubectl scale set, the usual way to let scale or an autoscaler own them.
    /// </summary>
    [Fact]
    public async Task Reapplying_a_deployment_without_replicas_keeps_the_scaled_replicas()
    {
        (await kube.Run("apply", "-f", kube.Manifest("norep-node", KubeManifests.Node("kw-norep", "norep")))).Succeeded();
        var manifest = kube.Manifest("norep", KubeManifests.Deployment("kw-norep", "norep", replicas: null));
        (await kube.Run("apply", "-f", manifest)).Succeeded();
        await kube.WaitFor("deployment/kw-norep", "{.status.readyReplicas}", r => r == "1");
        (await kube.Run("scale", "deployment", "kw-norep", "--replicas=3")).Succeeded();
        await kube.WaitFor("deployment/kw-norep", "{.status.readyReplicas}", r => r == "3");

        (await kube.Run("apply", "-f", manifest)).Succeeded();
        Assert.Equal("3", await kube.Get("deployment/kw-norep", "{.spec.replicas}"));
        Assert.Equal(3, (await kube.Run("get", "pods", "-l", "app=kw-norep", "-o", "name")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // A manifest that names replicas still sets them, and a changed template is still refused.
        (await kube.Run("apply", "-f", kube.Manifest("norep-two", KubeManifests.Deployment("kw-norep", "norep", replicas: 2)))).Succeeded();
        Assert.Equal("2", await kube.Get("deployment/kw-norep", "{.spec.replicas}"));
        var changed = await kube.Run("apply", "-f", kube.Manifest("norep-image", KubeManifests.Deployment("kw-norep", "norep", replicas: 2).Replace("nginx:1.27", "nginx:1.28")));
        Assert.True(changed.ExitCode != 0, changed.ToString());
        Assert.Contains("The Deployment \"kw-norep\" is invalid: spec.template", changed.Error);
    }

    /// <summary>
    /// A workload autoscaled through the REST API within 1..3: kubectl scale beyond that range was answered "scaled"
    /// with the count silently cut to the bound; it is refused (422 at spec.replicas) and nothing changes.
    /// </summary>
    [Fact]
    public async Task Scaling_an_autoscaled_deployment_outside_its_range_is_refused_and_changes_nothing()
    {
        using (var created = await kube.Http.PostAsync("../api/v1/workloads", Json("""
            {"name":"kw-auto","replicas":2,"autoscale":{"minReplicas":1,"maxReplicas":3},
             "template":{"requests":{"cpu":"1m"},"labels":{"app":"kw-auto"},"nodeSelector":{"test":"none"}}}
            """)))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var refused = await kube.Run("scale", "deployment", "kw-auto", "--replicas=5");
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("spec.replicas", refused.Error);
        Assert.Contains("replicas 5 is outside autoscale's range: minReplicas 1, maxReplicas 3", refused.Error);
        Assert.Equal("2", await kube.Get("deployment/kw-auto", "{.spec.replicas}"));
        Assert.Equal("deployment.apps/kw-auto scaled", (await kube.Run("scale", "deployment", "kw-auto", "--replicas=3")).Succeeded().Output.Trim());
        Assert.Equal("3", await kube.Get("deployment/kw-auto", "{.spec.replicas}"));
    }

    /// <summary>
    /// A workload made through the REST API without template labels is served an empty selector (its pods carry no
    /// labels to select). Every patch or replace of it was refused at spec.selector ("matchLabels are required"), so
    /// kubectl patch of its replicas, kubectl annotate and kubectl replace of its own get -o yaml all failed, and a
    /// changed template was refused for its selector rather than its template. Kept as served (with or without an empty
    /// matchLabels), the selector is no reason to refuse: the update is judged by what it changes.
    /// </summary>
    [Fact]
    public async Task A_rest_workload_without_labels_is_patched_annotated_and_replaced_through_kubectl()
    {
        using (var created = await kube.Http.PostAsync("../api/v1/workloads", Json("""
            {"name":"kw-bare","replicas":1,"template":{"requests":{"cpu":"1m"},"nodeSelector":{"test":"none"}}}
            """)))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("{}", await kube.Get("deployment/kw-bare", "{.spec.selector.matchLabels}"));

        Assert.Equal("deployment.apps/kw-bare patched", (await kube.Run("patch", "deployment", "kw-bare", "-p", """{"spec":{"replicas":2}}""")).Succeeded().Output.Trim());
        Assert.Equal("2", await kube.Get("deployment/kw-bare", "{.spec.replicas}"));
        Assert.Equal("deployment.apps/kw-bare annotated", (await kube.Run("annotate", "deployment", "kw-bare", "note=x")).Succeeded().Output.Trim());
        Assert.Equal("x", await kube.Get("deployment/kw-bare", "{.metadata.annotations.note}"));
        var yaml = (await kube.Run("get", "deployment", "kw-bare", "-o", "yaml")).Succeeded().Output;
        Assert.Equal("deployment.apps/kw-bare replaced", (await kube.Run("replace", "-f", kube.Manifest("bare", yaml.Replace("replicas: 2", "replicas: 3")))).Succeeded().Output.Trim());
        Assert.Equal("3", await kube.Get("deployment/kw-bare", "{.spec.replicas}"));

        // A changed template is still refused, for its template.
        var changed = await kube.Run("patch", "deployment", "kw-bare", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"kw-bare","image":"nginx:2"}]}}}}""");
        Assert.True(changed.ExitCode != 0, changed.ToString());
        Assert.Contains("spec.template", changed.Error);
        Assert.DoesNotContain("spec.selector", changed.Error);
        // A selector given where there was none, its template unlabeled, selects nothing the template has: refused for
        // the template's labels, as apps/v1 validation would (ValidatePodTemplateSpecForReplicaSet).
        var selected = await kube.Run("patch", "deployment", "kw-bare", "-p", """{"spec":{"selector":{"matchLabels":{"app":"x"}}}}""");
        Assert.True(selected.ExitCode != 0, selected.ToString());
        Assert.Contains("spec.template.metadata.labels: Invalid value:", selected.Error);
        Assert.Contains("`selector` does not match template `labels`", selected.Error);
        // With template labels it selects, it reaches the selector's own rule: immutable.
        var relabeled = await kube.Run("patch", "deployment", "kw-bare", "-p",
            """{"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}}}}}""");
        Assert.True(relabeled.ExitCode != 0, relabeled.ToString());
        Assert.Contains("spec.selector: Invalid value:", relabeled.Error);
        Assert.Contains("field is immutable", relabeled.Error);
        // The empty selector however it is written, "selector":{} as client-go's typed Update sends it: the one served.
        Assert.Equal("deployment.apps/kw-bare patched", (await kube.Run("patch", "deployment", "kw-bare", "-p",
            """{"spec":{"replicas":4,"selector":{"matchLabels":null}}}""")).Succeeded().Output.Trim());
        Assert.Equal("4", await kube.Get("deployment/kw-bare", "{.spec.replicas}"));
        Assert.Equal("{}", await kube.Get("deployment/kw-bare", "{.spec.selector.matchLabels}"));
    }

    /// <summary>
    /// A pod's labels and spec are what the API server compares on update (pkg/apis/core/validation ValidatePodUpdate);
    /// a patch that changes neither, such as an annotation or a label set to the value it has, succeeds, whether or
    /// not a workload owns the pod (its ownerReferences come with the pod as served, never from a manifest).
    /// </summary>
    [Fact]
    public async Task Unchanging_label_annotate_and_apply_of_a_deployments_pod_succeed()
    {
        (await kube.Run("apply", "-f", kube.Manifest("owned-node", KubeManifests.Node("kw-owned", "owned")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("owned", KubeManifests.Deployment("kw-owned", "owned", replicas: 1)))).Succeeded();
        await kube.WaitFor("deployment/kw-owned", "{.status.readyReplicas}", r => r == "1");
        var pod = (await kube.Run("get", "pods", "-l", "app=kw-owned", "-o", "name")).Succeeded().Output.Trim();
        Assert.StartsWith("pod/kw-owned-", pod);

        Assert.Equal($"{pod} annotated", (await kube.Run("annotate", pod, "note=x")).Succeeded().Output.Trim());
        (await kube.Run("label", pod, "app=kw-owned", "--overwrite")).Succeeded();
        var yaml = (await kube.Run("get", pod, "-o", "yaml")).Succeeded().Output;
        (await kube.Run("apply", "-f", kube.Manifest("owned-pod", yaml))).Succeeded();

        var relabeled = await kube.Run("label", pod, "app=other", "--overwrite");
        Assert.True(relabeled.ExitCode != 0, relabeled.ToString());
        Assert.Contains("is invalid", relabeled.Error);
        Assert.Equal("kw-owned Deployment", await kube.Get(pod, "{.metadata.labels.app} {.metadata.ownerReferences[0].kind}"));
    }

    /// <summary>
    /// kubectl label patches the deployment's metadata, kubectl rollout restart its template's annotations
    /// (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/objectrestarter.go) and kubectl rollout pause spec.paused
    /// (objectpauser.go); a workload keeps none of them (it keeps its own annotations: KubectlDeploymentAnnotationsTests), so each is refused (422, as a changed template is) instead of
    /// answered as done and dropped, and a manifest carrying them is refused when created.
    /// </summary>
    [Fact]
    public async Task Deployment_changes_a_workload_cannot_keep_are_refused_not_dropped()
    {
        (await kube.Run("apply", "-f", kube.Manifest("meta-node", KubeManifests.Node("kw-meta", "meta")))).Succeeded();
        var manifest = kube.Manifest("meta", KubeManifests.Deployment("kw-meta", "meta", replicas: 1));
        (await kube.Run("apply", "-f", manifest)).Succeeded();
        await kube.WaitFor("deployment/kw-meta", "{.status.readyReplicas}", r => r == "1");
        var pods = await kube.Get("pods", "{.items[?(@.metadata.labels.app==\"kw-meta\")].metadata.name}");

        // kubectl label prints the Status' details ("The Deployment ..."); rollout prints its message, which names the kind
        // with its group as the API server's NewInvalid does ("failed to patch: Deployment.apps ...").
        foreach (var (args, refusal) in new[]
        {
            (new[] { "label", "deployment", "kw-meta", "tier=frontend" }, "The Deployment \"kw-meta\" is invalid: metadata.labels"),
            (["label", "deployment", "kw-meta", "app-"], "The Deployment \"kw-meta\" is invalid: metadata.labels"),
            (["rollout", "restart", "deployment/kw-meta"], "failed to patch: Deployment.apps \"kw-meta\" is invalid: spec.template.metadata.annotations"),
            (["rollout", "pause", "deployment/kw-meta"], "failed to patch: Deployment.apps \"kw-meta\" is invalid: spec.paused"),
        })
        {
            var refused = await kube.Run(args);
            Assert.True(refused.ExitCode != 0, refused.ToString());
            Assert.Contains(refusal, refused.Error);
        }
        Assert.Equal("{\"app\":\"kw-meta\"}", await kube.Get("deployment/kw-meta", "{.metadata.labels}"));
        Assert.Equal("", await kube.Get("deployment/kw-meta", "{.spec.paused}"));
        Assert.Equal(pods, await kube.Get("pods", "{.items[?(@.metadata.labels.app==\"kw-meta\")].metadata.name}"));
        // The manifest itself still applies, unchanged.
        (await kube.Run("apply", "-f", manifest)).Succeeded();

        var labeled = KubeManifests.Deployment("kw-meta-labeled", "meta", replicas: 1).Replace("  name: kw-meta-labeled\n", "  name: kw-meta-labeled\n  labels:\n    tier: frontend\n");
        var created = await kube.Run("apply", "-f", kube.Manifest("meta-labeled", labeled));
        Assert.Contains("The Deployment \"kw-meta-labeled\" is invalid: metadata.labels", created.Error);
        Assert.Contains("NotFound", (await kube.Run("get", "deployment", "kw-meta-labeled")).Error);
    }

    /// <summary>
    /// A resourceVersion in a patch is a precondition (kubectl label --resource-version sends one): a stale one is 409
    /// Conflict in the API server's words (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, Update)
    /// and changes nothing; the current one succeeds, and is stale after.
    /// </summary>
    [Fact]
    public async Task Label_with_a_stale_resource_version_is_a_conflict_and_with_the_current_one_succeeds()
    {
        (await kube.Run("apply", "-f", kube.Manifest("rv-node", KubeManifests.Node("kw-rv", "rv")))).Succeeded();
        // The silo keeps a version of its own for an object once it has listed it; until then there is none to hold a
        // write to (a GET serves the silo's moving version), and a resourceVersion is not checked.
        (await kube.Run("get", "nodes")).Succeeded();
        const string conflict = "Error from server (Conflict): Operation cannot be fulfilled on nodes \"kw-rv\": the object has been modified; please apply your changes to the latest version and try again";
        var stale = await kube.Run("label", "node", "kw-rv", "foo=bar", "--resource-version=1");
        Assert.True(stale.ExitCode != 0, stale.ToString());
        Assert.Contains(conflict, stale.Error);
        Assert.Equal("", await kube.Get("node/kw-rv", "{.metadata.labels.foo}"));

        // What a GET serves is what the write is held to (a GET, then a conditional write: the review found it a 409).
        var version = await kube.Get("node/kw-rv", "{.metadata.resourceVersion}");
        (await kube.Run("label", "node", "kw-rv", "foo=bar", $"--resource-version={version}")).Succeeded();
        Assert.Equal("bar", await kube.Get("node/kw-rv", "{.metadata.labels.foo}"));
        // Once the silo has seen the change (a listing), the version read before it is stale.
        (await kube.Run("get", "nodes")).Succeeded();
        var again = await kube.Run("label", "node", "kw-rv", "foo=baz", "--overwrite", $"--resource-version={version}");
        Assert.Contains(conflict, again.Error);
        Assert.Equal("bar", await kube.Get("node/kw-rv", "{.metadata.labels.foo}"));
    }

    /// <summary>
    /// DeleteOptions.preconditions, in an eviction's deleteOptions too, as the API server checks them before deleting
    /// (staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go, BeforeDelete): 409 Conflict, nothing deleted. A patch
    /// may not change a uid (422).
    /// </summary>
    [Fact]
    public async Task Writes_whose_preconditions_fail_are_409_and_change_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("pre-node", KubeManifests.Node("kw-pre", "pre")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("pre-pod", KubeManifests.Pod("kw-pre-pod", "pre")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("pre-web", KubeManifests.Deployment("kw-pre-web", "pre", replicas: 1)))).Succeeded();
        await kube.WaitFor("pod/kw-pre-pod", "{.status.phase}", p => p == "Running");
        await kube.WaitFor("deployment/kw-pre-web", "{.status.readyReplicas}", r => r == "1");
        var uid = await kube.Get("pod/kw-pre-pod", "{.metadata.uid}");
        (await kube.Run("get", "pods")).Succeeded(); // the silo keeps a version for what it has listed
        const string zero = "00000000-0000-0000-0000-000000000000";
        static string Preconditions(string preconditionUid, string? version = null) => JsonSerializer.Serialize(new
        {
            kind = "DeleteOptions",
            apiVersion = "v1",
            preconditions = version is null ? new Dictionary<string, string> { ["uid"] = preconditionUid } : new() { ["uid"] = preconditionUid, ["resourceVersion"] = version },
        });

        var wrongUid = await Status(await Send(HttpMethod.Delete, "api/v1/namespaces/default/pods/kw-pre-pod", Preconditions(zero)), HttpStatusCode.Conflict, "Conflict");
        Assert.Equal($"Operation cannot be fulfilled on Pod \"kw-pre-pod\": the UID in the precondition ({zero}) does not match the UID in record ({uid}). The object might have been deleted and then recreated",
            wrongUid.GetProperty("message").GetString());
        var staleVersion = await Status(await Send(HttpMethod.Delete, "api/v1/namespaces/default/pods/kw-pre-pod", Preconditions(uid, "1")), HttpStatusCode.Conflict, "Conflict");
        Assert.StartsWith("Operation cannot be fulfilled on Pod \"kw-pre-pod\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (",
            staleVersion.GetProperty("message").GetString());
        var eviction = """{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"kw-pre-pod"},"deleteOptions":""" + Preconditions(zero) + "}";
        await Status(await Send(HttpMethod.Post, "api/v1/namespaces/default/pods/kw-pre-pod/eviction", eviction), HttpStatusCode.Conflict, "Conflict");
        await Status(await Send(HttpMethod.Delete, "apis/apps/v1/namespaces/default/deployments/kw-pre-web", Preconditions(zero)), HttpStatusCode.Conflict, "Conflict");
        await Status(await Send(HttpMethod.Delete, "api/v1/nodes/kw-pre", Preconditions(zero)), HttpStatusCode.Conflict, "Conflict");
        var uidChange = await Status(await Send(HttpMethod.Patch, "api/v1/namespaces/default/pods/kw-pre-pod", $$$"""{"metadata":{"uid":"{{{zero}}}"}}""", "application/merge-patch+json"),
            HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("metadata.uid", Assert.Single(uidChange.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());

        Assert.Equal("Running kw-pre", await kube.Get("pod/kw-pre-pod", "{.status.phase} {.spec.nodeName}"));
        Assert.Equal("1", await kube.Get("deployment/kw-pre-web", "{.spec.replicas}"));
        Assert.Equal("kw-pre", await kube.Get("node/kw-pre", "{.metadata.name}"));
        // The pod's own uid deletes it.
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Delete, "api/v1/namespaces/default/pods/kw-pre-pod", Preconditions(uid))).StatusCode);
        Assert.Contains("NotFound", (await kube.Run("get", "pod", "kw-pre-pod")).Error);
    }

    /// <summary>
    /// kubectl delete --cascade=orphan sends propagationPolicy Orphan (staging/src/k8s.io/kubectl/pkg/cmd/delete/delete.go),
    /// which asks the API server to delete the deployment and leave its pods, no longer owned. A workload cannot let
    /// its pods go, so the delete is refused (422) and nothing is deleted; the other policies delete both. Options the
    /// API server would not accept are 422 as there (apimachinery's meta/v1/validation ValidateDeleteOptions).
    /// </summary>
    [Fact]
    public async Task Orphaning_delete_of_a_deployment_is_refused_and_deletes_nothing()
    {
        (await kube.Run("apply", "-f", kube.Manifest("orphan-node", KubeManifests.Node("kw-orphan", "orphan")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("orphan", KubeManifests.Deployment("kw-orphan", "orphan", replicas: 2)))).Succeeded();
        await kube.WaitFor("deployment/kw-orphan", "{.status.readyReplicas}", r => r == "2");
        var pods = await kube.Get("pods", "{.items[?(@.metadata.labels.app==\"kw-orphan\")].metadata.name}");

        var orphaned = await kube.Run("delete", "deployment", "kw-orphan", "--cascade=orphan");
        Assert.True(orphaned.ExitCode != 0, orphaned.ToString());
        Assert.Contains("Deployment \"kw-orphan\" is invalid: propagationPolicy", orphaned.Error);
        await Status(await Send(HttpMethod.Delete, "apis/apps/v1/namespaces/default/deployments/kw-orphan?orphanDependents=true", ""), HttpStatusCode.UnprocessableEntity, "Invalid");
        await Status(await Send(HttpMethod.Delete, "apis/apps/v1/namespaces/default/deployments/kw-orphan", """{"propagationPolicy":"Sideways"}"""), HttpStatusCode.UnprocessableEntity, "Invalid");
        await Status(await Send(HttpMethod.Delete, "apis/apps/v1/namespaces/default/deployments/kw-orphan", """{"propagationPolicy":"Background","orphanDependents":false}"""),
            HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("2", await kube.Get("deployment/kw-orphan", "{.spec.replicas}"));
        Assert.Equal(pods, await kube.Get("pods", "{.items[?(@.metadata.labels.app==\"kw-orphan\")].metadata.name}"));

        Assert.Equal("deployment.apps \"kw-orphan\" deleted", (await kube.Run("delete", "deployment", "kw-orphan", "--cascade=foreground")).Succeeded().Output.Trim());
        await kube.WaitFor("pods", "{.items[?(@.metadata.labels.app==\"kw-orphan\")].metadata.name}", names => names == "");
    }
}
