using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// Commands a platform engineer types every day, run with the real kubectl: manifests as they are commonly written
/// (GPUs asked for in limits, files holding kinds this server does not serve), and the verbs and outputs around them.
/// </summary>
public sealed class KubectlEverydayCommandsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <summary>
    /// The kubelet labels its node kubernetes.io/hostname, and scheduling reads a node registered without the label as
    /// having its name there (Matching.TryNodeLabel): a nodeSelector on it matched, while the node was served its raw
    /// labels and `kubectl get nodes -l kubernetes.io/hostname=...` found nothing. Served as a kubelet would have set it,
    /// the default is not stored by a patch that sends it back (kubectl label), and a label given explicitly wins.
    /// </summary>
    [Fact]
    public async Task A_node_registered_without_a_hostname_label_is_selected_by_its_name()
    {
        (await kube.Run("apply", "-f", kube.Manifest("host-node", KubeManifests.Node("ke-host", "host")))).Succeeded();
        Assert.Equal("node/ke-host", (await kube.Run("get", "nodes", "-l", "kubernetes.io/hostname=ke-host", "-o", "name")).Succeeded().Output.Trim());
        Assert.Equal("ke-host", await kube.Get("node/ke-host", "{.metadata.labels.kubernetes\\.io/hostname}"));

        (await kube.Run("label", "node", "ke-host", "zone=a")).Succeeded();
        var stored = (await kube.Http.GetJson("../api/v1/nodes/ke-host")).GetProperty("labels");
        Assert.Equal(["test", "zone"], stored.EnumerateObject().Select(l => l.Name).Order(StringComparer.Ordinal));
        Assert.Equal("node/ke-host", (await kube.Run("get", "nodes", "-l", "kubernetes.io/hostname=ke-host", "-o", "name")).Succeeded().Output.Trim());

        (await kube.Run("label", "node", "ke-host", "kubernetes.io/hostname=ke-host-7", "--overwrite")).Succeeded();
        Assert.Equal("", (await kube.Run("get", "nodes", "-l", "kubernetes.io/hostname=ke-host", "-o", "name")).Succeeded().Output.Trim());
        Assert.Equal("node/ke-host", (await kube.Run("get", "nodes", "-l", "kubernetes.io/hostname=ke-host-7", "-o", "name")).Succeeded().Output.Trim());
    }

    /// <summary>
    /// GPUs are usually asked for in limits alone (NVIDIA's device plugin documents nvidia.com/gpu under limits), and
    /// the API server defaults a container's missing requests to its limits (pkg/apis/core/v1/defaults.go,
    /// SetDefaults_Pod: "If limits are specified, but requests are not, default requests to limits"). On a node with
    /// one GPU, the first such pod takes it and the second waits.
    /// </summary>
    [Fact]
    public async Task Limits_without_requests_are_the_pods_requests()
    {
        (await kube.Run("apply", "-f", kube.Manifest("limits-node", KubeManifests.Node("ke-limits", "limits", cpu: "8", gpus: "1")))).Succeeded();
        static string Pod(string name) => $"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: {name}
            spec:
              schedulerName: kube
              nodeSelector:
                test: limits
              containers:
              - name: main
                image: pytorch/pytorch:2.4
                resources:
                  limits:
                    nvidia.com/gpu: 1
                    cpu: "2"
                  requests:
                    cpu: "1"

            """;
        (await kube.Run("apply", "-f", kube.Manifest("limits-first", Pod("ke-limits-1")))).Succeeded();
        await kube.WaitFor("pod/ke-limits-1", "{.status.phase}", p => p == "Running");
        // cpu keeps its own request; the GPU's comes from its limit.
        Assert.Equal("1 1", await kube.Get("pod/ke-limits-1", "{.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.nvidia\\.com/gpu}"));
        Assert.Equal("0 x 1000m", await kube.Get("pod/ke-limits-1", "{.metadata.annotations.mas\\.io/gpu-devices}"));

        (await kube.Run("apply", "-f", kube.Manifest("limits-second", Pod("ke-limits-2")))).Succeeded();
        var message = await kube.WaitFor("pod/ke-limits-2", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Length > 0);
        Assert.Contains("Insufficient nvidia.com/gpu", message);
        // Applying the same manifest again is accepted (pods are immutable here): the defaulted requests are the pod's own.
        (await kube.Run("apply", "-f", kube.Manifest("limits-first", Pod("ke-limits-1")))).Succeeded();
    }

    /// <summary>
    /// A file commonly holds kinds this server does not serve beside ones it does (a Service with its Deployment).
    /// kubectl validates each document against the server's OpenAPI schemas, falling back to /openapi/v2 for a kind the
    /// v3 documents do not list (cli-runtime pkg/resource/query_param_verifier_v3.go), and skips a kind that document
    /// has no schema for (kubectl pkg/util/openapi/validation/validation.go). Without /openapi/v2 the whole file was
    /// refused ("failed to download openapi") and nothing applied; now the served objects are applied and the others
    /// named, as against a cluster without that kind.
    /// </summary>
    [Fact]
    public async Task A_file_with_a_kind_not_served_applies_the_rest_and_names_the_kind()
    {
        (await kube.Run("apply", "-f", kube.Manifest("bulk-node", KubeManifests.Node("ke-bulk", "bulk")))).Succeeded();
        var file = kube.Manifest("bulk", """
            apiVersion: v1
            kind: Service
            metadata:
              name: ke-bulk-svc
            spec:
              selector: {app: ke-bulk}
              ports: [{port: 80}]
            ---
            """ + "\n" + KubeManifests.Pod("ke-bulk-pod", "bulk"));
        var applied = await kube.Run("apply", "-f", file);
        Assert.Equal(1, applied.ExitCode);
        Assert.Contains("pod/ke-bulk-pod created", applied.Output);
        Assert.Contains("no matches for kind \"Service\" in version \"v1\"", applied.Error);
        Assert.DoesNotContain("openapi", applied.Error);
        Assert.Equal("ke-bulk", await kube.WaitFor("pod/ke-bulk-pod", "{.spec.nodeName}", n => n.Length > 0));
    }

    /// <summary>
    /// This server publishes no schemas, so kubectl explain cannot explain; it must say so rather than fail inside its
    /// template: the OpenAPI v3 document had no components, and kubectl's plaintext template
    /// (kubectl pkg/explain/v2/templates/plaintext.tmpl) indexes components.schemas unconditionally.
    /// </summary>
    [Fact]
    public async Task Explain_says_the_kind_has_no_schema_rather_than_failing_in_its_template()
    {
        foreach (var (resource, gvk) in new[] { ("pod", "map[group: kind:Pod version:v1]"), ("deployment.spec", "map[group:apps kind:Deployment version:v1]") })
        {
            var explained = await kube.Run("explain", resource);
            Assert.Equal(1, explained.ExitCode);
            Assert.Contains($"GVK {gvk} not found in OpenAPI schema", explained.Error);
            Assert.DoesNotContain("template", explained.Error);
        }
    }

    /// <summary>
    /// kubectl get all expands the category "all" from discovery (apimachinery's APIResource.Categories); the API server
    /// puts pods and deployments in it (pkg/registry/core/pod/storage/storage.go and
    /// pkg/registry/apps/deployment/storage/storage.go, Categories), nodes and events not.
    /// </summary>
    [Fact]
    public async Task Get_all_lists_pods_and_deployments()
    {
        (await kube.Run("apply", "-f", kube.Manifest("all-node", KubeManifests.Node("ke-all", "all")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("all-pod", KubeManifests.Pod("ke-all-pod", "all")))).Succeeded();
        var deployment = KubeManifests.Deployment("ke-all-web", "all", replicas: 0);
        (await kube.Run("apply", "-f", kube.Manifest("all-web", deployment))).Succeeded();
        var all = (await kube.Run("get", "all", "-o", "name")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("pod/ke-all-pod", all);
        Assert.Contains("deployment.apps/ke-all-web", all);
        Assert.DoesNotContain(all, line => line.StartsWith("node/", StringComparison.Ordinal) || line.StartsWith("event/", StringComparison.Ordinal));
    }

    /// <summary>
    /// kubectl patch --type=json sends a JSON Patch (RFC 6902), the usual way to remove one taint by its index. The API
    /// server refuses a malformed list with 400 and an operation that does not apply with 422
    /// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go, applyJSPatch); it was a 415 here.
    /// </summary>
    [Fact]
    public async Task Json_patch_adds_a_label_removes_a_taint_by_index_and_refuses_what_does_not_apply()
    {
        var node = KubeManifests.Node("ke-jsonpatch", "jsonpatch").Replace("status:", """
            spec:
              taints:
              - {key: a, value: "1", effect: NoSchedule}
              - {key: b, value: "2", effect: NoExecute}
            status:
            """);
        (await kube.Run("apply", "-f", kube.Manifest("jsonpatch-node", node))).Succeeded();

        var patched = await kube.Run("patch", "node", "ke-jsonpatch", "--type=json", "-p",
            """[{"op":"add","path":"/metadata/labels/gpu.vendor~1model","value":"a100"},{"op":"test","path":"/spec/taints/0/key","value":"a"},{"op":"remove","path":"/spec/taints/0"}]""");
        Assert.Equal("node/ke-jsonpatch patched", patched.Succeeded().Output.Trim());
        Assert.Equal("a100 b", await kube.Get("node/ke-jsonpatch", "{.metadata.labels.gpu\\.vendor/model} {.spec.taints[*].key}"));

        var missing = await kube.Run("patch", "node", "ke-jsonpatch", "--type=json", "-p", """[{"op":"remove","path":"/metadata/labels/nope"}]""");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("the remove operation at \"/metadata/labels/nope\" does not apply: no such path", missing.Error);
        var failedTest = await kube.Run("patch", "node", "ke-jsonpatch", "--type=json", "-p",
            """[{"op":"remove","path":"/spec/taints/0"},{"op":"test","path":"/metadata/labels/test","value":"other"}]""");
        Assert.Equal(1, failedTest.ExitCode);
        Assert.Contains("the test operation at \"/metadata/labels/test\" does not apply", failedTest.Error);
        var malformed = await kube.Run("patch", "node", "ke-jsonpatch", "--type=json", "-p", """[{"op":"frobnicate","path":"/spec"}]""");
        Assert.Equal(1, malformed.ExitCode);
        Assert.Contains("Error from server (BadRequest)", malformed.Error);
        // Neither refused patch changed anything.
        Assert.Equal("b", await kube.Get("node/ke-jsonpatch", "{.spec.taints[*].key}"));
    }

    /// <summary>
    /// A node keeps its labels, taints and spec.unschedulable; anything else a patch changes it cannot keep. kubectl
    /// annotate node printed "annotated" and the annotation was gone at the next get; such a patch is now refused with
    /// 422 naming the field, as a deployment's is, and kubectl apply's own last-applied-configuration still passes.
    /// </summary>
    [Fact]
    public async Task A_node_patch_that_changes_what_a_node_cannot_keep_is_refused_not_dropped()
    {
        var manifest = kube.Manifest("keep-node", KubeManifests.Node("ke-keep", "keep"));
        (await kube.Run("apply", "-f", manifest)).Succeeded();
        (await kube.Run("apply", "-f", manifest)).Succeeded();

        var annotated = await kube.Run("annotate", "node", "ke-keep", "team=ml");
        Assert.Equal(1, annotated.ExitCode);
        Assert.Contains("The Node \"ke-keep\" is invalid: metadata.annotations.team: Invalid value:", annotated.Error);
        var provider = await kube.Run("patch", "node", "ke-keep", "-p", """{"spec":{"providerID":"aws:///i-1"}}""");
        Assert.Equal(1, provider.ExitCode);
        Assert.Contains("spec.providerID", provider.Error);
        Assert.Equal("", await kube.Get("node/ke-keep", "{.metadata.annotations.team}{.spec.providerID}"));
        // What a node keeps still changes.
        (await kube.Run("label", "node", "ke-keep", "zone=a")).Succeeded();
        Assert.Equal("a", await kube.Get("node/ke-keep", "{.metadata.labels.zone}"));
    }

    /// <summary>
    /// Namespaces are implicit (every DNS-1123 label exists): kubectl get ns lists default and those in use, a file that
    /// starts with its Namespace applies whole (kubectl reads the namespace, finds it and patches it with its
    /// last-applied-configuration), and kubectl create -f of a Namespace finds it already there. These were "the server doesn't
    /// have a resource type" and "no matches for kind Namespace".
    /// </summary>
    [Fact]
    public async Task Namespaces_are_listed_and_a_file_with_its_namespace_applies()
    {
        var file = kube.Manifest("ns-file", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: ke-team
            ---
            """ + "\n" + KubeManifests.Pod("ke-ns-pod", "ns").Replace("  name: ke-ns-pod", "  name: ke-ns-pod\n  namespace: ke-team"));
        var applied = await kube.Run("apply", "-f", file);
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Contains("namespace/ke-team", applied.Output);
        Assert.Contains("pod/ke-ns-pod created", applied.Output);
        (await kube.Run("apply", "-f", file)).Succeeded();

        var listed = (await kube.Run("get", "ns")).Succeeded().Output;
        Assert.Matches(@"(?m)^NAME\s+STATUS\s+AGE$", listed);
        Assert.Matches(@"(?m)^default\s+Active\s", listed);
        Assert.Matches(@"(?m)^ke-team\s+Active\s", listed);
        Assert.Equal("Active", await kube.Get("namespace/ke-team", "{.status.phase}"));

        var created = await kube.Run("create", "-f", kube.Manifest("ns-other", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ke-other\n"));
        Assert.Equal(1, created.ExitCode);
        Assert.Contains("Error from server (AlreadyExists)", created.Error);
        Assert.Contains("namespaces \"ke-other\" already exists", created.Error);
        var labelled = await kube.Run("label", "namespace", "ke-team", "env=prod");
        Assert.Equal(1, labelled.ExitCode);
        Assert.Contains("The Namespace \"ke-team\" is invalid", labelled.Error);
    }

    /// <summary>
    /// kubectl create deployment (and create namespace) send protobuf through client-go's typed clients
    /// (client-go kubernetes.NewForConfig defaults ContentType to application/vnd.kubernetes.protobuf); this server reads
    /// JSON only. The 415 must say what to do instead, and the way it names works.
    /// </summary>
    [Fact]
    public async Task Create_deployment_from_flags_says_to_apply_a_manifest_and_that_way_works()
    {
        var created = await kube.Run("create", "deployment", "ke-flags", "--image=nginx:1.27", "--replicas=0");
        Assert.Equal(1, created.ExitCode);
        Assert.Contains("this server reads JSON only", created.Error);
        Assert.Contains("--dry-run=client -o yaml | kubectl apply -f -", created.Error);

        var manifest = (await kube.Run("create", "deployment", "ke-flags", "--image=nginx:1.27", "--replicas=0", "--dry-run=client", "-o", "yaml")).Succeeded().Output;
        Assert.Equal("deployment.apps/ke-flags created", (await kube.Run("apply", "-f", kube.Manifest("flags", manifest))).Succeeded().Output.Trim());
        Assert.Equal("nginx:1.27", await kube.Get("deployment/ke-flags", "{.spec.template.spec.containers[0].image}"));
    }

    /// <summary>
    /// A manifest whose field has the wrong shape is a 400 that names the field and the shape in the manifest's terms,
    /// as the API server's "cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container"
    /// does, not .NET's type names ("could not be converted to System.Collections.Generic.IList`1[k8s.Models.V1Container]").
    /// </summary>
    [Theory]
    [InlineData("containers: not-a-list", "spec.containers: cannot be read as a list (it is a string)")]
    [InlineData("containers: [{name: main, image: true}]", "spec.containers[0].image: cannot be read as a string (it is true)")]
    [InlineData("priority: high\n  containers: [{name: main, image: x}]", "spec.priority: cannot be read as an integer (it is a string)")]
    [InlineData("containers: [{name: main, image: x, resources: {requests: {cpu: 2x}}}]",
        "spec.containers[0].resources.requests.cpu: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (not '2x')")]
    public async Task A_field_of_the_wrong_shape_is_named_in_the_manifests_terms(string spec, string expected)
    {
        var created = await kube.Run("create", "-f", kube.Manifest("shape", $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: ke-shape\nspec:\n  {spec}\n"));
        Assert.Equal(1, created.ExitCode);
        Assert.Contains("Error from server (BadRequest)", created.Error);
        Assert.Contains($"the request body is not a valid Pod: {expected}", created.Error);
        Assert.DoesNotContain("System.", created.Error);
    }

    /// <summary>
    /// kubectl rollout status and kubectl wait watch the deployment (kubectl pkg/cmd/rollout/rollout_status.go, through
    /// an informer). Deployments had no watch: both printed "Failed to watch ... watch is not supported on deployments"
    /// on every retry and saw readiness only when client-go's backoff listed again.
    /// </summary>
    [Fact]
    public async Task Rollout_status_follows_a_deployment_until_its_replicas_run()
    {
        var deployment = KubeManifests.Deployment("ke-rollout", "rollout", replicas: 2);
        (await kube.Run("apply", "-f", kube.Manifest("rollout", deployment))).Succeeded();
        var rollout = kube.Run("rollout", "status", "deployment/ke-rollout", "--timeout=40s");
        var waited = kube.Run("wait", "--for=condition=Available", "deployment/ke-rollout", "--timeout=40s");
        // No node matches yet: both wait, then see the replicas run once one registers.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(rollout.IsCompleted);
        (await kube.Run("apply", "-f", kube.Manifest("rollout-node", KubeManifests.Node("ke-rollout", "rollout")))).Succeeded();

        var status = await rollout;
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("deployment \"ke-rollout\" successfully rolled out", status.Output);
        Assert.DoesNotContain("watch", status.Error);
        var condition = await waited;
        Assert.True(condition.ExitCode == 0, condition.ToString());
        Assert.Contains("deployment.apps/ke-rollout condition met", condition.Output);
        Assert.DoesNotContain("watch", condition.Error);
    }

    /// <summary>
    /// A pod or deployment here is deleted at once and keeps no finalizers: one given finalizers was created and the
    /// finalizers dropped (a controller relying on them would never see its cleanup run). Such a manifest is now 422 on
    /// metadata.finalizers and nothing is created.
    /// </summary>
    [Fact]
    public async Task Finalizers_are_refused_not_dropped()
    {
        var pod = KubeManifests.Pod("ke-final", "final").Replace("  name: ke-final", "  name: ke-final\n  finalizers: [example.com/cleanup]");
        var created = await kube.Run("apply", "-f", kube.Manifest("final-pod", pod));
        Assert.Equal(1, created.ExitCode);
        Assert.Contains("The Pod \"ke-final\" is invalid: metadata.finalizers: Invalid value:", created.Error);
        Assert.Contains("pods \"ke-final\" not found", (await kube.Run("get", "pod", "ke-final")).Error);

        var deployment = KubeManifests.Deployment("ke-final-web", "final", replicas: 0, extraMetadata: "  finalizers: [example.com/cleanup]");
        var refused = await kube.Run("apply", "-f", kube.Manifest("final-web", deployment));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("The Deployment \"ke-final-web\" is invalid: metadata.finalizers: Invalid value:", refused.Error);
    }

    /// <summary>
    /// kube-apiserver's health endpoints (handleRootHealth in apiserver pkg/server/healthz/healthz.go): "ok", and with
    /// ?verbose a line per check and "readyz check passed". kubectl get --raw sends its path as given (kubectl
    /// pkg/rawhttp/raw.go), so it names the prefix; the three were 404 here.
    /// </summary>
    [Fact]
    public async Task Get_raw_of_the_health_endpoints_answers_as_kube_apiserver()
    {
        foreach (var endpoint in new[] { "livez", "readyz", "healthz" })
            Assert.Equal("ok", (await kube.Run("get", "--raw", $"/k8s/{endpoint}")).Succeeded().Output);
        var verbose = (await kube.Run("get", "--raw", "/k8s/readyz?verbose")).Succeeded().Output;
        Assert.Equal("[+]cluster-membership ok\n[+]cluster-index ok\n[+]queue-shards ok\n[+]default-policy ok\n[+]redis ok\nreadyz check passed\n", verbose);
        Assert.Equal("livez check passed\n", (await kube.Run("get", "--raw", "/k8s/livez?verbose")).Succeeded().Output);
    }
}
