namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>Resource quantities from a manifest to the scheduler and back, as kubectl shows them.</summary>
public sealed class KubectlResourcesTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <summary>
    /// A node's `pods` allocatable is its pod limit (NodeResourcesFit's "Too many pods", pkg/scheduler/framework/plugins/
    /// noderesources/fit.go fitsRequest), and a kubelet always reports it (110 by default, pkg/kubelet/apis/config/v1beta1
    /// defaults: MaxPods 110). A Node created on /k8s lost it: a node of `pods: "1"` took a second pod, and no node
    /// showed `pods` in its capacity or allocatable.
    /// </summary>
    [Fact]
    public async Task A_nodes_pods_allocatable_limits_its_pods_and_is_shown()
    {
        var oneSlot = KubeManifests.Node("kr-one-slot", "kr-one-slot").Replace("    nvidia.com/gpu: \"0\"", "    nvidia.com/gpu: \"0\"\n    pods: \"1\"");
        Assert.Contains("pods: \"1\"", oneSlot);
        (await kube.Run("apply", "-f", kube.Manifest("kr-one-slot", oneSlot))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("kr-default-node", KubeManifests.Node("kr-default", "kr-default")))).Succeeded();
        Assert.Equal("1 1", await kube.Get("node/kr-one-slot", "{.status.capacity.pods} {.status.allocatable.pods}"));
        Assert.Equal("110 110", await kube.Get("node/kr-default", "{.status.capacity.pods} {.status.allocatable.pods}"));

        (await kube.Run("apply", "-f", kube.Manifest("kr-first", KubeManifests.Pod("kr-first", "kr-one-slot")))).Succeeded();
        await kube.WaitFor("pod/kr-first", "{.status.phase}", p => p == "Running");
        (await kube.Run("apply", "-f", kube.Manifest("kr-second", KubeManifests.Pod("kr-second", "kr-one-slot")))).Succeeded();
        var message = await kube.WaitFor("pod/kr-second", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Length > 0);
        Assert.Contains("1 Too many pods", message);
        Assert.Equal("Pending ", await kube.Get("pod/kr-second", "{.status.phase} {.spec.nodeName}"));

        // The node as served applies back unchanged: its pods is its capacity, not a change to it.
        var served = (await kube.Run("get", "node", "kr-one-slot", "-o", "yaml")).Succeeded().Output;
        (await kube.Run("apply", "-f", kube.Manifest("kr-one-slot-served", served))).Succeeded();
        Assert.Equal("1", await kube.Get("node/kr-one-slot", "{.status.allocatable.pods}"));
    }

    /// <summary>
    /// The API server serves a quantity in the format it was written in, in canonical form (apimachinery
    /// pkg/api/resource/quantity.go, v0.35 for kubernetes v1.35: CanonicalizeBytes; int64Amount.AsCanonicalBytes moves the
    /// mantissa's factors of ten into the exponent and lowers it to a multiple of three, named by suffix in DecimalSI and
    /// by "e" in DecimalExponent). By those rules: a node's memory 64000M is DecimalSI 64·10^9, "64G", and 100G "100G"; a
    /// template's 2000M "2G" and cpu 0.5 (5·10^-1, exponent lowered to -3) "500m"; and a pod's requests written in
    /// canonical form are served as written: 2G; 1073741824 (no factor of ten); 1500e-3 (DecimalExponent 15·10^-1,
    /// lowered to -3). Ours served whatever is a whole number of KiB in binary ("62500000Ki", "97656250Ki", "1953125Ki",
    /// "1Gi") and cpu in milli ("1500m"), so `kubectl apply` of the same pod manifest again found those values changed
    /// ("configured"), where against a cluster it is "unchanged".
    /// </summary>
    [Fact]
    public async Task Quantities_are_served_in_the_format_they_were_written_in_as_the_api_server_serves_them()
    {
        var node = KubeManifests.Node("kr-formats", "kr-formats").Replace("memory: 64Gi", "memory: 64000M\n    ephemeral-storage: 100G");
        Assert.Contains("ephemeral-storage: 100G", node);
        (await kube.Run("apply", "-f", kube.Manifest("kr-formats-node", node))).Succeeded();
        Assert.Equal("64G 64G 100G 16", await kube.Get("node/kr-formats", "{.status.capacity.memory} {.status.allocatable.memory} {.status.capacity.ephemeral-storage} {.status.capacity.cpu}"));

        var pod = KubeManifests.Pod("kr-formats", "kr-formats").Replace("        cpu: \"1\"\n        memory: 1Gi\n",
            "        cpu: \"1500e-3\"\n        memory: 2G\n        ephemeral-storage: \"1073741824\"\n");
        Assert.Contains("1500e-3", pod);
        (await kube.Run("apply", "-f", kube.Manifest("kr-formats", pod))).Succeeded();
        Assert.Equal("Running kr-formats", await kube.WaitFor("pod/kr-formats", "{.status.phase} {.spec.nodeName}", p => p.StartsWith("Running", StringComparison.Ordinal)));
        const string Requests = "{.spec.containers[0].resources.requests";
        Assert.Equal("1500e-3 2G 1073741824", await kube.Get("pod/kr-formats", $"{Requests}.cpu}} {Requests}.memory}} {Requests}.ephemeral-storage}}"));
        Assert.Equal("pod/kr-formats unchanged", (await kube.Run("apply", "-f", kube.Manifest("kr-formats", pod))).Succeeded().Output.Trim());

        var deployment = KubeManifests.Deployment("kr-formats-web", "kr-formats", cpu: "\"0.5\"", memory: "2000M");
        Assert.Contains("memory: 2000M", deployment);
        (await kube.Run("apply", "-f", kube.Manifest("kr-formats-web", deployment))).Succeeded();
        Assert.Equal("500m 2G", await kube.Get("deployment/kr-formats-web", "{.spec.template.spec.containers[0].resources.requests.cpu} {.spec.template.spec.containers[0].resources.requests.memory}"));
    }

    /// <summary>
    /// A kubelet reports every resource of its node (hugepages-2Mi, a device plugin's example.com/foo) and the API server
    /// keeps each capacity and allocatable entry (ValidateNode, pkg/apis/core/validation/validation.go, checks only that
    /// each is a resource name and none is below zero: "must be greater than or equal to 0"). A Node created on /k8s lost
    /// every one MasOrleans does not model. They are kept and served now, canonical as any quantity (hugepages-2Mi
    /// 2048Mi: BinarySI 2^31, "2Gi"), through a label patch and a re-apply; a changed one is refused as a modelled one is.
    /// They are not scheduled on, so a pod asking for one stays refused (the test after this one).
    /// </summary>
    [Fact]
    public async Task A_nodes_resources_not_modelled_here_are_kept_and_served()
    {
        static string Opaque(string foo) => KubeManifests.Node("kr-opaque", "kr-opaque")
            .Replace("    nvidia.com/gpu: \"0\"", $"    nvidia.com/gpu: \"0\"\n    example.com/foo: \"{foo}\"\n    hugepages-2Mi: 2048Mi");
        Assert.Contains("example.com/foo: \"4\"", Opaque("4"));
        (await kube.Run("apply", "-f", kube.Manifest("kr-opaque", Opaque("4")))).Succeeded();
        const string Served = "{.status.capacity.example\\.com/foo} {.status.allocatable.example\\.com/foo} {.status.capacity.hugepages-2Mi} {.status.allocatable.hugepages-2Mi}";
        Assert.Equal("4 4 2Gi 2Gi", await kube.Get("node/kr-opaque", Served));

        (await kube.Run("label", "node", "kr-opaque", "rack=r1")).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("kr-opaque", Opaque("4")))).Succeeded();
        Assert.Equal("4 4 2Gi 2Gi", await kube.Get("node/kr-opaque", Served));
        var changed = await kube.Run("apply", "-f", kube.Manifest("kr-opaque-changed", Opaque("5")));
        Assert.True(changed.ExitCode != 0, changed.ToString());
        Assert.Contains("a node's capacity is fixed when it registers", changed.Error);
        Assert.Equal("4 4 2Gi 2Gi", await kube.Get("node/kr-opaque", Served));

        var negative = KubeManifests.Node("kr-negative", "kr-opaque").Replace("    nvidia.com/gpu: \"0\"", "    nvidia.com/gpu: \"0\"\n    example.com/foo: \"-1\"");
        var refused = await kube.Run("apply", "-f", kube.Manifest("kr-negative", negative));
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("The Node \"kr-negative\" is invalid: status.capacity: Invalid value: node kr-negative: capacity example.com/foo must be greater than or equal to 0", refused.Error);
        Assert.NotEqual(0, (await kube.Run("get", "node/kr-negative")).ExitCode);
    }

    /// <summary>
    /// A pod asking for a resource no node here can have (MasOrleans models cpu, memory, nvidia.com/gpu, disk I/O,
    /// network and ephemeral-storage) was created with that request dropped and ran on a node without it: `amd.com/gpu`,
    /// or `gpu` for `nvidia.com/gpu`, placed a GPU job on a CPU node. kube-scheduler would leave it Pending for ever
    /// (fit.go fitsRequest: "Insufficient amd.com/gpu" on every node); here it is refused, as the REST API refuses it,
    /// naming the resources there are. A zero request asks for nothing (fitsRequest skips it) and is accepted.
    /// </summary>
    [Fact]
    public async Task A_pod_asking_for_a_resource_no_node_can_have_is_refused_and_a_zero_request_of_one_is_not()
    {
        (await kube.Run("apply", "-f", kube.Manifest("kr-cpu-node", KubeManifests.Node("kr-cpu", "kr-unknown")))).Succeeded();
        static string Asking(string name, string resources) =>
            KubeManifests.Pod(name, "kr-unknown").Replace("        memory: 1Gi\n", "        memory: 1Gi\n" + resources);

        var amd = Asking("kr-amd", "      limits:\n        amd.com/gpu: \"1\"\n");
        Assert.Contains("amd.com/gpu", amd);
        var refused = await kube.Run("apply", "-f", kube.Manifest("kr-amd", amd));
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("The Pod \"kr-amd\" is invalid", refused.Error);
        Assert.Contains("unknown resource 'amd.com/gpu' (known: cpu, memory, nvidia.com/gpu, mas.io/disk-io, mas.io/network, ephemeral-storage)", refused.Error);

        var typo = KubeManifests.Deployment("kr-typo", "kr-unknown").Replace("memory: 256Mi", "memory: 256Mi\n            gpu: \"1\"");
        Assert.Contains("gpu: \"1\"", typo);
        var refusedTemplate = await kube.Run("apply", "-f", kube.Manifest("kr-typo", typo));
        Assert.True(refusedTemplate.ExitCode != 0, refusedTemplate.ToString());
        Assert.Contains("unknown resource 'gpu'", refusedTemplate.Error);

        foreach (var gone in new[] { "pod/kr-amd", "deployment/kr-typo" }) Assert.NotEqual(0, (await kube.Run("get", gone)).ExitCode);

        // Its limit too: the API server requires one for an extended resource, zero or not (see the next test).
        (await kube.Run("apply", "-f", kube.Manifest("kr-zero", Asking("kr-zero", "        example.com/dongle: \"0\"\n      limits:\n        example.com/dongle: \"0\"\n")))).Succeeded();
        Assert.Equal("Running kr-cpu", await kube.WaitFor("pod/kr-zero", "{.status.phase} {.spec.nodeName}", p => p.StartsWith("Running", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The API server requires a limit of a resource that cannot be overcommitted (an extended one, nvidia.com/gpu or
    /// mas.io/disk-io: helper.IsOvercommitAllowed, pkg/apis/core/helper/helpers.go) and refuses a request of one without
    /// it (ValidateResourceRequirements, pkg/apis/core/validation/validation.go, v1.35: field.Required(limPath, "Limit
    /// must be set for non overcommitable resources")), in a pod as in a deployment's template. Both were created and
    /// scheduled at the request. A limit alone is the request (SetDefaults_Pod defaults it before validation), and cpu and
    /// memory need no limit. Such a pod is served with both, as the API server serves it, so its manifest applies again
    /// "unchanged" (it was served without the limit, and kubectl apply found it added each time: "configured").
    /// </summary>
    [Fact]
    public async Task An_extended_resource_requested_without_a_limit_is_refused_and_a_limit_alone_is_its_request()
    {
        (await kube.Run("apply", "-f", kube.Manifest("kr-extended-node", KubeManifests.Node("kr-extended", "kr-extended", gpus: "2")))).Succeeded();
        static string Requesting(string name, string resources) =>
            KubeManifests.Pod(name, "kr-extended").Replace("        memory: 1Gi\n", "        memory: 1Gi\n" + resources);
        const string Required = "resources.limits: Required value: Limit must be set for non overcommitable resources";

        foreach (var (name, resource) in new[] { ("kr-gpu-unlimited", "nvidia.com/gpu: \"1\""), ("kr-disk-unlimited", "mas.io/disk-io: \"100\"") })
        {
            var refused = await kube.Run("apply", "-f", kube.Manifest(name, Requesting(name, $"        {resource}\n")));
            Assert.True(refused.ExitCode != 0, refused.ToString());
            Assert.Contains($"The Pod \"{name}\" is invalid: spec.containers[0].{Required}", refused.Error);
        }
        var deployment = KubeManifests.Deployment("kr-deploy-unlimited", "kr-extended").Replace("memory: 256Mi", "memory: 256Mi\n            nvidia.com/gpu: \"1\"");
        Assert.Contains("nvidia.com/gpu", deployment);
        var refusedDeployment = await kube.Run("apply", "-f", kube.Manifest("kr-deploy-unlimited", deployment));
        Assert.True(refusedDeployment.ExitCode != 0, refusedDeployment.ToString());
        Assert.Contains($"The Deployment \"kr-deploy-unlimited\" is invalid: spec.template.spec.containers[0].{Required}", refusedDeployment.Error);
        foreach (var gone in new[] { "pod/kr-gpu-unlimited", "pod/kr-disk-unlimited", "deployment/kr-deploy-unlimited" }) Assert.NotEqual(0, (await kube.Run("get", gone)).ExitCode);

        (await kube.Run("apply", "-f", kube.Manifest("kr-gpu-limited", Requesting("kr-gpu-limited", "      limits:\n        nvidia.com/gpu: \"1\"\n")))).Succeeded();
        Assert.Equal("Running kr-extended", await kube.WaitFor("pod/kr-gpu-limited", "{.status.phase} {.spec.nodeName}", p => p.StartsWith("Running", StringComparison.Ordinal)));
        Assert.Equal("""{"cpu":"1","memory":"1Gi","nvidia.com/gpu":"1"}""", await kube.Get("pod/kr-gpu-limited", "{.spec.containers[0].resources.requests}"));
        Assert.Equal("""{"nvidia.com/gpu":"1"}""", await kube.Get("pod/kr-gpu-limited", "{.spec.containers[0].resources.limits}"));
        Assert.Equal("pod/kr-gpu-limited unchanged",
            (await kube.Run("apply", "-f", kube.Manifest("kr-gpu-limited", Requesting("kr-gpu-limited", "      limits:\n        nvidia.com/gpu: \"1\"\n")))).Succeeded().Output.Trim());
    }

    /// <summary>
    /// The API server refuses a container whose request exceeds its limit, and for a resource that cannot be
    /// overcommitted (an extended one such as nvidia.com/gpu) one whose request differs from its limit
    /// (ValidateResourceRequirements, pkg/apis/core/validation/validation.go, v1.35: "must be less than or equal to cpu
    /// limit of 1", "must be equal to nvidia.com/gpu limit of 2"; helper.IsOvercommitAllowed). Both were created and
    /// scheduled at their requests.
    /// </summary>
    [Fact]
    public async Task A_request_above_its_limit_or_a_gpu_request_unlike_its_limit_is_refused()
    {
        (await kube.Run("apply", "-f", kube.Manifest("kr-limits-node", KubeManifests.Node("kr-limits", "kr-limits", gpus: "4")))).Succeeded();
        static string Limited(string name, string requests, string limits) => KubeManifests.Pod(name, "kr-limits")
            .Replace("        cpu: \"1\"\n        memory: 1Gi\n", requests + "      limits:\n" + limits);

        var cpu = Limited("kr-cpu-above", "        cpu: \"2\"\n", "        cpu: \"1\"\n");
        Assert.Contains("limits:", cpu);
        var refused = await kube.Run("apply", "-f", kube.Manifest("kr-cpu-above", cpu));
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("""The Pod "kr-cpu-above" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1""", refused.Error);

        var gpu = Limited("kr-gpu-unlike", "        nvidia.com/gpu: \"1\"\n", "        nvidia.com/gpu: \"2\"\n");
        var refusedGpu = await kube.Run("apply", "-f", kube.Manifest("kr-gpu-unlike", gpu));
        Assert.True(refusedGpu.ExitCode != 0, refusedGpu.ToString());
        Assert.Contains("""spec.containers[0].resources.requests: Invalid value: "1": must be equal to nvidia.com/gpu limit of 2""", refusedGpu.Error);
        var deployment = KubeManifests.Deployment("kr-deploy-above", "kr-limits").Replace("memory: 256Mi", "memory: 256Mi\n          limits:\n            cpu: 250m");
        Assert.Contains("cpu: 250m", deployment);
        var refusedDeployment = await kube.Run("apply", "-f", kube.Manifest("kr-deploy-above", deployment));
        Assert.True(refusedDeployment.ExitCode != 0, refusedDeployment.ToString());
        Assert.Contains("""spec.template.spec.containers[0].resources.requests: Invalid value: "500m": must be less than or equal to cpu limit of 250m""", refusedDeployment.Error);
        foreach (var gone in new[] { "pod/kr-cpu-above", "pod/kr-gpu-unlike", "deployment/kr-deploy-above" }) Assert.NotEqual(0, (await kube.Run("get", gone)).ExitCode);

        // Within its limit (cpu may be overcommitted), and a GPU request equal to its limit: created, at the requests.
        (await kube.Run("apply", "-f", kube.Manifest("kr-within", Limited("kr-within",
            "        cpu: 500m\n        nvidia.com/gpu: \"2\"\n", "        cpu: \"1\"\n        nvidia.com/gpu: \"2\"\n")))).Succeeded();
        Assert.Equal("Running kr-limits", await kube.WaitFor("pod/kr-within", "{.status.phase} {.spec.nodeName}", p => p.StartsWith("Running", StringComparison.Ordinal)));
        Assert.Equal("""{"cpu":"500m","nvidia.com/gpu":"2"}""", await kube.Get("pod/kr-within", "{.spec.containers[0].resources.requests}"));
    }
    /// <summary>
    /// The API server keeps a container's limits and serves every request and limit it was given, a zero one too, each
    /// canonical (apimachinery pkg/api/resource/quantity.go, v0.35: String of a zero quantity is "0"), so a manifest
    /// written in canonical form reads back as written; a limit alone is also the request (SetDefaults_Pod). Limits do not place
    /// a pod: kube-scheduler fits requests only (NodeResourcesFit). Ours served a pod and a template with no cpu or
    /// memory limits and without a zero request, so the same manifest applied again was "configured" where against a
    /// cluster it is "unchanged".
    /// </summary>
    [Fact]
    public async Task A_pods_limits_and_zero_requests_are_kept_and_served_as_given()
    {
        (await kube.Run("apply", "-f", kube.Manifest("kr-kept-node", KubeManifests.Node("kr-kept", "kr-kept", gpus: "2")))).Succeeded();
        var pod = KubeManifests.Pod("kr-kept", "kr-kept").Replace("        cpu: \"1\"\n        memory: 1Gi\n",
            "        cpu: \"0\"\n        memory: 1Gi\n      limits:\n        cpu: \"2\"\n        memory: 2Gi\n        nvidia.com/gpu: \"1\"\n");
        Assert.Contains("memory: 2Gi", pod);
        (await kube.Run("apply", "-f", kube.Manifest("kr-kept", pod))).Succeeded();
        Assert.Equal("""{"cpu":"0","memory":"1Gi","nvidia.com/gpu":"1"}""", await kube.Get("pod/kr-kept", "{.spec.containers[0].resources.requests}"));
        Assert.Equal("""{"cpu":"2","memory":"2Gi","nvidia.com/gpu":"1"}""", await kube.Get("pod/kr-kept", "{.spec.containers[0].resources.limits}"));
        Assert.Equal("pod/kr-kept unchanged", (await kube.Run("apply", "-f", kube.Manifest("kr-kept", pod))).Succeeded().Output.Trim());

        var deployment = KubeManifests.Deployment("kr-kept-web", "kr-kept").Replace("memory: 256Mi", "memory: 256Mi\n          limits:\n            cpu: \"1\"\n            memory: 512Mi");
        Assert.Contains("memory: 512Mi", deployment);
        (await kube.Run("apply", "-f", kube.Manifest("kr-kept-web", deployment))).Succeeded();
        Assert.Equal("""{"cpu":"1","memory":"512Mi"}""", await kube.Get("deployment/kr-kept-web", "{.spec.template.spec.containers[0].resources.limits}"));
        Assert.Equal("deployment.apps/kr-kept-web unchanged", (await kube.Run("apply", "-f", kube.Manifest("kr-kept-web", deployment))).Succeeded().Output.Trim());
    }

    /// <summary>
    /// The API server refuses an update of a pod's spec beyond its few mutable fields (ValidatePodUpdate,
    /// pkg/apis/core/validation/validation.go, v1.35: "spec: Forbidden: pod updates may not change fields other than
    /// `spec.containers[*].image`,..."); resources change in place only through the resize subresource (ValidatePodResize),
    /// which is not served here (404). A re-apply changing a pod's GPU or cpu limit was accepted and dropped ("configured",
    /// the pod as before), and so was one changing a deployment's template limits.
    /// </summary>
    [Fact]
    public async Task A_re_apply_that_changes_a_pods_resources_is_refused_in_the_api_servers_words()
    {
        (await kube.Run("apply", "-f", kube.Manifest("kr-resize-node", KubeManifests.Node("kr-resize", "kr-resize", gpus: "4")))).Succeeded();
        static string Limited(string gpus, string cpu) => KubeManifests.Pod("kr-resize", "kr-resize")
            .Replace("        memory: 1Gi\n", $"        memory: 1Gi\n      limits:\n        cpu: \"{cpu}\"\n        nvidia.com/gpu: \"{gpus}\"\n");
        (await kube.Run("apply", "-f", kube.Manifest("kr-resize", Limited("1", "2")))).Succeeded();
        const string Limits = "{.spec.containers[0].resources.limits}";
        Assert.Equal("""{"cpu":"2","nvidia.com/gpu":"1"}""", await kube.Get("pod/kr-resize", Limits));

        foreach (var (gpus, cpu) in new[] { ("2", "2"), ("1", "4") })
        {
            var refused = await kube.Run("apply", "-f", kube.Manifest("kr-resize-changed", Limited(gpus, cpu)));
            Assert.True(refused.ExitCode != 0, refused.ToString());
            Assert.Contains("The Pod \"kr-resize\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)", refused.Error);
            Assert.Contains("spec.containers[*].resources.limits", refused.Error);
        }
        Assert.Equal("""{"cpu":"2","nvidia.com/gpu":"1"}""", await kube.Get("pod/kr-resize", Limits));
        Assert.Equal("""{"cpu":"1","memory":"1Gi","nvidia.com/gpu":"1"}""", await kube.Get("pod/kr-resize", "{.spec.containers[0].resources.requests}"));
        // An image an API server would take is fixed here (nothing restarts a container): refused on its own field, saying so.
        var image = await kube.Run("apply", "-f", kube.Manifest("kr-resize-image", Limited("1", "2").Replace("busybox:1.36", "busybox:1.37")));
        Assert.True(image.ExitCode != 0, image.ToString());
        Assert.Contains("The Pod \"kr-resize\" is invalid: spec.containers[0].image: Forbidden: fixed once a pod is created here", image.Error);

        using (var resize = await kube.Http.PatchAsync("api/v1/namespaces/default/pods/kr-resize/resize",
            KubeHttp.Json("""{"spec":{"containers":[{"name":"main","resources":{"limits":{"cpu":"4"}}}]}}""", "application/merge-patch+json")))
            await KubeHttp.Status(resize, System.Net.HttpStatusCode.NotFound, "NotFound");

        static string Template(string cpu) => KubeManifests.Deployment("kr-resize-web", "kr-resize").Replace("memory: 256Mi", $"memory: 256Mi\n          limits:\n            cpu: \"{cpu}\"");
        (await kube.Run("apply", "-f", kube.Manifest("kr-resize-web", Template("1")))).Succeeded();
        var refusedTemplate = await kube.Run("apply", "-f", kube.Manifest("kr-resize-web", Template("2")));
        Assert.True(refusedTemplate.ExitCode != 0, refusedTemplate.ToString());
        Assert.Contains("The Deployment \"kr-resize-web\" is invalid: spec.template", refusedTemplate.Error);
        Assert.Equal("""{"cpu":"1"}""", await kube.Get("deployment/kr-resize-web", "{.spec.template.spec.containers[0].resources.limits}"));
    }

    /// <summary>
    /// A limit beyond what a quantity comparison holds (1e29, past a decimal's 7.9e28; the body's guard lets up to 1e30
    /// through) is out of range here, as a request is. One container's limit was kept as written, and then every update of
    /// the pod (kubectl apply again, kubectl annotate) was a 500: the update compares limits by value, and overflowed.
    /// </summary>
    [Fact]
    public async Task A_limit_out_of_range_is_refused_at_creation_not_a_500_at_the_next_update()
    {
        var pod = KubeManifests.Pod("kr-huge-limit", "kr-huge-limit").Replace("        memory: 1Gi\n", "        memory: 1Gi\n      limits:\n        memory: 1e29\n");
        Assert.Contains("memory: 1e29", pod);
        var created = await kube.Run("apply", "-f", kube.Manifest("kr-huge-limit", pod));
        Assert.True(created.ExitCode != 0, created.ToString());
        Assert.Contains("The Pod \"kr-huge-limit\" is invalid: spec.containers[].resources.limits", created.Error);
        Assert.Contains("memory limit '100e27' is out of range", created.Error);
        Assert.Contains("NotFound", (await kube.Run("get", "pod/kr-huge-limit")).Error);
    }
}
