namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>What kubectl prints when the server refuses a request: the API server's Status reason and message.</summary>
public sealed class KubectlRefusedRequestsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private const string PodManifest = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: NAME
        spec:
          containers:
          - name: main
            image: busybox:1.36
            resources:
              requests: {cpu: 100m, memory: 64Mi}

        """;

    /// <summary>A namespace must be a DNS-1123 label (apimachinery pkg/api/validation/generic.go ValidateNamespaceName).</summary>
    [Fact]
    public async Task A_namespace_that_is_not_a_dns_label_holds_no_pods_and_takes_none()
    {
        // After a NotFound kubectl reads the namespace it was given, and reports that one missing when it is.
        var get = await kube.Run("get", "pod", "p1", "-n", "a.b");
        Assert.Equal(1, get.ExitCode);
        Assert.Contains("Error from server (NotFound): namespaces \"a.b\" not found", get.Error);
        var delete = await kube.Run("delete", "pod", "p1", "-n", "a.b");
        Assert.NotEqual(0, delete.ExitCode);
        Assert.Contains("(NotFound)", delete.Error);
        Assert.DoesNotContain("api/v1", delete.Error);
        // Every valid namespace exists (namespaces are implicit), so the pod is what is missing there.
        var elsewhere = await kube.Run("get", "pod", "p1", "-n", "ml");
        Assert.Contains("Error from server (NotFound): pods \"p1\" not found", elsewhere.Error);

        var create = await kube.Run("create", "-f", kube.Manifest("prod-x", PodManifest.Replace("NAME", "kr-ns")), "-n", "Prod_X");
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("The Pod \"kr-ns\" is invalid: metadata.namespace: Invalid value: \"Prod_X\"", create.Error);
        Assert.Equal("", (await kube.Run("get", "pods", "-A", "--field-selector", "metadata.name=kr-ns", "-o", "name")).Succeeded().Output.Trim());
    }

    /// <summary>The API server's label selector parser (apimachinery pkg/labels/selector.go) refuses "!app=web".</summary>
    [Fact]
    public async Task A_malformed_label_selector_is_refused_not_read_as_another()
    {
        (await kube.Run("create", "-f", kube.Manifest("selected", PodManifest.Replace("NAME", "kr-selected")))).Succeeded();
        var listed = await kube.Run("get", "pods", "-l", "!app=web", "-o", "name");
        Assert.NotEqual(0, listed.ExitCode);
        Assert.Contains("found '=', expected: ',' or 'end of string'", listed.Error);
        Assert.DoesNotContain("kr-selected", listed.Output);
        Assert.Contains("pod/kr-selected", (await kube.Run("get", "pods", "-l", "!app", "-o", "name")).Succeeded().Output);
    }

    /// <summary>
    /// A verb not served on a served resource is MethodNotAllowed, an unserved resource NotFound, in the API server's
    /// words (apimachinery pkg/api/errors/errors.go NewGenericServerResponse): kubectl replace printed a NotFound
    /// with a double space for a deployment that exists (deployments and pods are replaced now; nodes are not), and
    /// kubectl create namespace (now configmap) NotFound "api/v1/namespaces".
    /// </summary>
    [Fact]
    public async Task Replace_and_create_configmap_are_refused_as_unsupported_not_as_missing()
    {
        var manifest = kube.Manifest("replaced", KubeManifests.Node("kr-replaced", "kr-replaced"));
        (await kube.Run("create", "-f", manifest)).Succeeded();
        var replace = await kube.Run("replace", "-f", manifest);
        Assert.NotEqual(0, replace.ExitCode);
        Assert.Contains("Error from server (MethodNotAllowed)", replace.Error);
        Assert.Contains("the server does not allow this method on the requested resource", replace.Error);

        var unserved = await kube.Run("create", "configmap", "team1");
        Assert.NotEqual(0, unserved.ExitCode);
        Assert.Contains("the server could not find the requested resource", unserved.Error);
    }

    /// <summary>kubectl create of a pod with generateName prints the name the server generated (apiserver names.SimpleNameGenerator).</summary>
    [Fact]
    public async Task Create_of_a_pod_with_generate_name_prints_the_generated_name()
    {
        var created = (await kube.Run("create", "-f", kube.Manifest("generated", PodManifest.Replace("name: NAME", "generateName: kr-gen-")))).Succeeded();
        Assert.Matches("^pod/kr-gen-[bcdfghjklmnpqrstvwxz2456789]{5} created$", created.Output.Trim());
    }

    /// <summary>
    /// A per-node cap the MaxInstancesPerNode filter could not apply ("0", "abc") was created and then ignored by the
    /// filter; refused as the REST API refuses it, a 422 on the labels, and no pod or deployment made.
    /// </summary>
    [Theory]
    [InlineData("\"0\"", "0 allows no instance on any node")]
    [InlineData("abc", "'abc' must be a whole number of instances per node, 1 or more")]
    public async Task A_per_node_cap_the_filter_cannot_apply_is_refused(string cap, string problem)
    {
        var name = cap == "abc" ? "kr-cap-abc" : "kr-cap-zero";
        var labelled = PodManifest.Replace("NAME", name).Replace("spec:\n", $"  labels: {{mas.io/app: web, mas.io/max-per-node: {cap}}}\nspec:\n");
        var create = await kube.Run("create", "-f", kube.Manifest(name, labelled));
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains($"The Pod \"{name}\" is invalid: metadata.labels: Invalid value: label mas.io/max-per-node", create.Error);
        Assert.Contains(problem, create.Error);
        Assert.Equal("", (await kube.Run("get", "pods", "--field-selector", $"metadata.name={name}", "-o", "name")).Succeeded().Output.Trim());

        var deployment = $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{name}}-d
            spec:
              replicas: 1
              selector:
                matchLabels: {mas.io/app: web}
              template:
                metadata:
                  labels: {mas.io/app: web, mas.io/max-per-node: {{cap}}}
                spec:
                  containers:
                  - name: main
                    image: busybox:1.36

            """;
        var applied = await kube.Run("create", "-f", kube.Manifest(name + "-d", deployment));
        Assert.NotEqual(0, applied.ExitCode);
        Assert.Contains($"is invalid: spec.template.metadata.labels: Invalid value: label mas.io/max-per-node", applied.Error);
        Assert.Contains(problem, applied.Error);
    }

    /// <summary>
    /// The API server's rules for containers (pkg/apis/core/validation/validation.go, validateContainerCommon,
    /// validateContainers and validateInitContainers; a Deployment's template is validated by the same ValidatePodSpec):
    /// a name is required and a DNS-1123 label, an image is required, and no two containers or init containers share a
    /// name (field.Duplicate prints the value as %q). Each was created here, the pod served with a nameless or doubled
    /// container; now each is the API server's 422 and nothing is made, while distinct names stay accepted.
    /// </summary>
    [Theory]
    [InlineData("dup", "[{name: main, image: busybox}, {name: main, image: busybox}]", null, "spec.containers[1].name: Duplicate value: \"main\"")]
    [InlineData("init-dup", "[{name: main, image: busybox}]", "[{name: main, image: busybox}]", "spec.initContainers[0].name: Duplicate value: \"main\"")]
    [InlineData("no-image", "[{name: main}]", null, "spec.containers[0].image: Required value")]
    [InlineData("no-name", "[{image: busybox}]", null, "spec.containers[0].name: Required value")]
    [InlineData("bad-name", "[{name: Main_1, image: busybox}]", null, "spec.containers[0].name: Invalid value: \"Main_1\": a lowercase RFC 1123 label must consist of")]
    public async Task A_container_needs_an_image_and_a_name_of_its_own(string name, string containers, string? initContainers, string problem)
    {
        var init = initContainers is null ? "" : $"\n  initContainers: {initContainers}";
        var pod = $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: kr-ctr-{name}\nspec:{init}\n  containers: {containers}\n";
        var created = await kube.Run("create", "-f", kube.Manifest($"kr-ctr-{name}", pod));
        Assert.NotEqual(0, created.ExitCode);
        Assert.Contains($"The Pod \"kr-ctr-{name}\" is invalid: {problem}", created.Error);
        Assert.Equal("", (await kube.Run("get", "pods", "--field-selector", $"metadata.name=kr-ctr-{name}", "-o", "name")).Succeeded().Output.Trim());

        var deployment = $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: kr-ctr-{{name}}-d
            spec:
              replicas: 1
              selector:
                matchLabels: {app: kr-ctr-{{name}}}
              template:
                metadata:
                  labels: {app: kr-ctr-{{name}}}
                spec:{{init.Replace("\n", "\n    ")}}
                  containers: {{containers}}

            """;
        var applied = await kube.Run("apply", "-f", kube.Manifest($"kr-ctr-{name}-d", deployment));
        Assert.NotEqual(0, applied.ExitCode);
        Assert.Contains($"is invalid: spec.template.{problem}", applied.Error);
        Assert.Equal("", (await kube.Run("get", "deployments", "--field-selector", $"metadata.name=kr-ctr-{name}-d", "-o", "name")).Succeeded().Output.Trim());
    }

    /// <summary>Distinct names across containers and init containers, each with an image, are a pod as the API server takes it.</summary>
    [Fact]
    public async Task Containers_with_names_of_their_own_are_accepted()
    {
        const string pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kr-ctr-ok\nspec:\n  initContainers: [{name: init, image: busybox}]\n"
            + "  containers: [{name: main, image: busybox}, {name: side, image: busybox}]\n";
        (await kube.Run("create", "-f", kube.Manifest("kr-ctr-ok", pod))).Succeeded();
        Assert.Equal("init main side", await kube.Get("pod/kr-ctr-ok", "{.spec.initContainers[*].name} {.spec.containers[*].name}"));
    }
}
