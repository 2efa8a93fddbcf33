namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A pod is served as its manifest gave it: the fields MasOrleans does not model (command, env, ports, volumes,
/// restartPolicy), its containers with their own requests, and its pod-level spec.resources and spec.overhead. They
/// were dropped, so `kubectl get -o yaml` lost them and every re-apply said "configured"; a change to one of them was
/// answered "configured" and kept nothing, where the API server refuses it (ValidatePodUpdate,
/// pkg/apis/core/validation/validation.go: "pod updates may not change fields other than ...").
/// </summary>
public sealed class KubectlPodManifestTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private static string Pod(string name, string test, string command) => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
        spec:
          schedulerName: kube
          nodeSelector: {test: {{test}}}
          restartPolicy: Never
          overhead: {cpu: 250m}
          resources:
            requests: {cpu: "2", memory: 2Gi}
          volumes:
          - name: scratch
            emptyDir: {}
          containers:
          - name: trainer
            image: busybox:1.36
            command: [{{command}}]
            args: ["--epochs", "3"]
            env:
            - {name: SEED, value: "7"}
            ports:
            - {containerPort: 8080, name: metrics}
            volumeMounts:
            - {name: scratch, mountPath: /scratch}
            resources:
              requests: {cpu: "1", memory: 1Gi}
          - name: sidecar
            image: busybox:1.36
            resources:
              requests: {cpu: 500m, memory: 256Mi}

        """;

    [Fact]
    public async Task A_pods_unmodeled_fields_containers_and_pod_level_resources_are_served_as_given_and_reapply_is_unchanged()
    {
        (await kube.Run("apply", "-f", kube.Manifest("pm-node", KubeManifests.Node("pm-node", "pm")))).Succeeded();
        var manifest = kube.Manifest("pm-pod", Pod("pm-pod", "pm", "train"));
        Assert.Equal("pod/pm-pod created", (await kube.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
        await kube.WaitFor("pod/pm-pod", "{.status.phase}", p => p == "Running");

        Assert.Equal("Never scratch train --epochs SEED=7 8080 /scratch",
            await kube.Get("pod/pm-pod", "{.spec.restartPolicy} {.spec.volumes[0].name} {.spec.containers[0].command[0]} {.spec.containers[0].args[0]} "
                + "{.spec.containers[0].env[0].name}={.spec.containers[0].env[0].value} {.spec.containers[0].ports[0].containerPort} {.spec.containers[0].volumeMounts[0].mountPath}"));
        // Each container with its own requests (not one standing for both with their sum), and the pod's own resources.
        Assert.Equal("trainer 1 sidecar 500m", await kube.Get("pod/pm-pod",
            "{.spec.containers[0].name} {.spec.containers[0].resources.requests.cpu} {.spec.containers[1].name} {.spec.containers[1].resources.requests.cpu}"));
        Assert.Equal("250m 2 2Gi", await kube.Get("pod/pm-pod", "{.spec.overhead.cpu} {.spec.resources.requests.cpu} {.spec.resources.requests.memory}"));
        // kubectl's READY counts the served containers' statuses against the spec's containers.
        Assert.Matches(@"^pm-pod\s+2/2\s+Running", (await kube.Run("get", "pod", "pm-pod", "--no-headers")).Succeeded().Output);

        var again = (await kube.Run("apply", "-f", manifest)).Succeeded();
        Assert.Equal("pod/pm-pod unchanged", again.Output.Trim());
        Assert.DoesNotContain("Warning", again.Error);

        var changed = await kube.Run("apply", "-f", kube.Manifest("pm-pod-2", Pod("pm-pod", "pm", "evaluate")));
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("The Pod \"pm-pod\" is invalid: spec: Forbidden: pod updates may not change fields other than", changed.Error);
        Assert.Contains("changed: spec.containers[*].command", changed.Error);
        Assert.Equal("train", await kube.Get("pod/pm-pod", "{.spec.containers[0].command[0]}"));
    }

    /// <summary>
    /// ValidatePodUpdate (pkg/apis/core/validation/validation.go, v1.35) compares the whole spec but for the images, the
    /// activeDeadlineSeconds, added tolerations and a terminationGracePeriodSeconds going from negative to 1: requests
    /// moved from one container to another (the pod's sum unchanged) and a grace period from 30 to 60 are refused in its
    /// words. The first was answered "configured" and kept nothing, the second was called a change an API server takes;
    /// an init container's image change was named spec.containers[*].image, where ValidateContainerUpdates names
    /// spec.initContainers[0].image.
    /// </summary>
    [Fact]
    public async Task Requests_moved_between_containers_a_grace_period_change_and_an_init_image_change_are_refused_on_their_own_terms()
    {
        static string Fields(string grace, string initImage, string trainerCpu = "\"1\"", string sidecarCpu = "500m") => Pod("pm-fields", "pm-none", "train")
            .Replace("  restartPolicy: Never\n", $"  restartPolicy: Never\n  terminationGracePeriodSeconds: {grace}\n  initContainers:\n  - name: fetch\n    image: {initImage}\n")
            .Replace("requests: {cpu: \"1\", memory: 1Gi}", $"requests: {{cpu: {trainerCpu}, memory: 1Gi}}")
            .Replace("requests: {cpu: 500m, memory: 256Mi}", $"requests: {{cpu: {sidecarCpu}, memory: 256Mi}}");
        // The replacements took: both containers' cpu moved, the init container and grace period in place.
        Assert.Equal(2, Fields("30", "busybox:1.35", "750m", "750m").Split("{cpu: 750m,").Length - 1);
        Assert.Contains("initContainers:", Fields("30", "busybox:1.35"));
        (await kube.Run("apply", "-f", kube.Manifest("pm-fields", Fields("30", "busybox:1.35")))).Succeeded();
        const string Forbidden = "The Pod \"pm-fields\" is invalid: spec: Forbidden: pod updates may not change fields other than";

        var moved = await kube.Run("apply", "-f", kube.Manifest("pm-fields-moved", Fields("30", "busybox:1.35", "750m", "750m")));
        Assert.Equal(1, moved.ExitCode);
        Assert.Contains(Forbidden, moved.Error);
        Assert.Contains("changed: spec.containers[*].resources.requests", moved.Error);
        Assert.Equal("1 500m", await kube.Get("pod/pm-fields", "{.spec.containers[0].resources.requests.cpu} {.spec.containers[1].resources.requests.cpu}"));

        var grace = await kube.Run("apply", "-f", kube.Manifest("pm-fields-grace", Fields("60", "busybox:1.35")));
        Assert.Equal(1, grace.ExitCode);
        Assert.Contains(Forbidden, grace.Error);
        Assert.Contains("changed: spec.terminationGracePeriodSeconds", grace.Error);

        var init = await kube.Run("apply", "-f", kube.Manifest("pm-fields-init", Fields("30", "busybox:1.37")));
        Assert.Equal(1, init.ExitCode);
        Assert.Contains("The Pod \"pm-fields\" is invalid: spec.initContainers[0].image: Forbidden: fixed once a pod is created here", init.Error);
        Assert.Equal("30 busybox:1.35", await kube.Get("pod/pm-fields", "{.spec.terminationGracePeriodSeconds} {.spec.initContainers[0].image}"));

        // The one grace period change the API server takes, negative to 1, is fixed here as the image is.
        (await kube.Run("apply", "-f", kube.Manifest("pm-negative", Fields("-1", "busybox:1.35").Replace("pm-fields", "pm-negative")))).Succeeded();
        var toOne = await kube.Run("apply", "-f", kube.Manifest("pm-negative-1", Fields("1", "busybox:1.35").Replace("pm-fields", "pm-negative")));
        Assert.Equal(1, toOne.ExitCode);
        Assert.Contains("The Pod \"pm-negative\" is invalid: spec.terminationGracePeriodSeconds: Forbidden: fixed once a pod is created here", toOne.Error);
        var toFive = await kube.Run("apply", "-f", kube.Manifest("pm-negative-5", Fields("5", "busybox:1.35").Replace("pm-fields", "pm-negative")));
        Assert.Equal(1, toFive.ExitCode);
        Assert.Contains("The Pod \"pm-negative\" is invalid: spec: Forbidden: pod updates may not change fields other than", toFive.Error);
    }

    /// <summary>
    /// ValidatePodUpdate (pkg/apis/core/validation/validation.go, v1.35) sets the new pod's images, activeDeadlineSeconds,
    /// added tolerations and grace period on a copy of the old spec and compares the rest: an update that also changes
    /// anything else is refused whole, "spec: Forbidden: pod updates may not change fields other than ...", its diff
    /// naming what else changed (an image is not in it). Here such a mixed update (labels, an image, and a command or a
    /// request) got the answer meant for an image change alone ("fixed once a pod is created here ... an API server would
    /// take this change"). Its labels, which an API server would not take either, are not applied.
    /// </summary>
    [Fact]
    public async Task An_update_changing_an_image_with_a_field_no_update_may_change_is_refused_whole_in_the_api_servers_words()
    {
        var created = Pod("pm-mixed", "pm-none", "train");
        (await kube.Run("apply", "-f", kube.Manifest("pm-mixed", created))).Succeeded();
        var relabelled = created.Replace("  name: pm-mixed\n", "  name: pm-mixed\n  labels: {tier: batch}\n").Replace("image: busybox:1.36\n    command", "image: busybox:1.37\n    command");
        Assert.Contains("tier: batch", relabelled);
        Assert.Contains("busybox:1.37", relabelled);
        foreach (var (mixed, changed) in new[]
        {
            (relabelled.Replace("command: [train]", "command: [evaluate]"), "spec.containers[*].command"),
            (relabelled.Replace("requests: {cpu: \"1\", memory: 1Gi}", "requests: {cpu: 1500m, memory: 1Gi}"), "spec.containers[*].resources.requests"),
        })
        {
            Assert.NotEqual(relabelled, mixed);
            var refused = await kube.Run("apply", "-f", kube.Manifest("pm-mixed-changed", mixed));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("The Pod \"pm-mixed\" is invalid: spec: Forbidden: pod updates may not change fields other than", refused.Error);
            Assert.Equal($"changed: {changed}", refused.Error.Split('\n').Single(l => l.StartsWith("changed: ", StringComparison.Ordinal)).Trim());
        }
        Assert.Equal(" busybox:1.36 train", await kube.Get("pod/pm-mixed", "{.metadata.labels.tier} {.spec.containers[0].image} {.spec.containers[0].command[0]}"));
    }

    /// <summary>
    /// The API server compares quantities by value on update (apiequality.Semantic, Quantity.Cmp): 2Gi and 2147483648 are
    /// one memory amount, 250m and 250e-3 one cpu amount, though each keeps its format (binary, decimal, exponent) and so
    /// its text. A pod's own spec.resources and spec.overhead were compared as text, so a re-apply writing one of them in
    /// another format was refused as a change; a changed overhead still is.
    /// </summary>
    [Fact]
    public async Task Pod_level_resources_and_overhead_written_another_way_are_no_change()
    {
        var created = Pod("pm-quantities", "pm-none", "train");
        (await kube.Run("apply", "-f", kube.Manifest("pm-quantities", created))).Succeeded();
        var rewritten = created.Replace("overhead: {cpu: 250m}", "overhead: {cpu: 250e-3}").Replace("requests: {cpu: \"2\", memory: 2Gi}", "requests: {cpu: \"2\", memory: \"2147483648\"}");
        Assert.Contains("cpu: 250e-3", rewritten);
        Assert.Contains("memory: \"2147483648\"", rewritten);
        var again = await kube.Run("apply", "-f", kube.Manifest("pm-quantities-rewritten", rewritten));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("250m 2 2Gi", await kube.Get("pod/pm-quantities", "{.spec.overhead.cpu} {.spec.resources.requests.cpu} {.spec.resources.requests.memory}"));

        var changed = await kube.Run("apply", "-f", kube.Manifest("pm-quantities-changed", created.Replace("overhead: {cpu: 250m}", "overhead: {cpu: 500m}")));
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("The Pod \"pm-quantities\" is invalid: spec: Forbidden: pod updates may not change fields other than", changed.Error);
        Assert.Contains("\nchanged: spec.overhead\n", changed.Error + "\n");
    }

    /// <summary>A manifest beyond the bound kept is served as modeled, and the client told so in the API server's warning form.</summary>
    [Fact]
    public async Task A_manifest_beyond_the_bound_kept_is_created_with_a_warning_naming_what_is_not_kept()
    {
        var large = KubeManifests.Pod("pm-large", "pm-none", extraSpec: $"  restartPolicy: Never\n  serviceAccountName: {new string('s', 70 * 1024)}");
        var created = (await kube.Run("create", "-f", kube.Manifest("pm-large", large))).Succeeded();
        Assert.Equal("pod/pm-large created", created.Output.Trim());
        Assert.Contains("Warning: spec: ", created.Error);
        Assert.Contains("more than the 65536 kept of a pod's manifest", created.Error);
        Assert.Equal(" main", await kube.Get("pod/pm-large", "{.spec.restartPolicy} {.spec.containers[0].name}"));
    }

    private static string Deployment(string name, string command) => $$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{name}}
        spec:
          replicas: 1
          selector:
            matchLabels: {app: {{name}}}
          template:
            metadata:
              labels: {app: {{name}}}
            spec:
              schedulerName: kube
              nodeSelector: {test: pm-none}
              terminationGracePeriodSeconds: 10
              overhead: {cpu: 250m}
              volumes:
              - name: scratch
                emptyDir: {}
              containers:
              - name: trainer
                image: busybox:1.36
                command: [{{command}}]
                env:
                - {name: SEED, value: "7"}
                ports:
                - {containerPort: 8080, name: metrics}
                volumeMounts:
                - {name: scratch, mountPath: /scratch}
                resources:
                  requests: {cpu: "1", memory: 1Gi}
              - name: sidecar
                image: busybox:1.36
                resources:
                  requests: {cpu: 500m, memory: 256Mi}

        """;

    /// <summary>
    /// A Deployment's pod template is kept as its manifest gave it, as a pod's spec is: its fields MasOrleans does not
    /// model (command, env, ports, volumes, the grace period), its containers with their own requests and spec.overhead
    /// were dropped, so `kubectl get deploy -o yaml` lost them and every re-apply of the same file said "configured"
    /// (and a changed command was not seen as a change to the template). The deployment's pods are served with it too.
    /// </summary>
    [Fact]
    public async Task A_deployments_template_is_served_as_given_its_reapply_is_unchanged_and_a_change_is_refused()
    {
        var manifest = kube.Manifest("pm-deploy", Deployment("pm-deploy", "train"));
        Assert.Equal("deployment.apps/pm-deploy created", (await kube.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
        const string Template = "{.spec.terminationGracePeriodSeconds} {.spec.volumes[0].name} {.spec.overhead.cpu} {.spec.containers[0].command[0]} "
            + "{.spec.containers[0].env[0].name}={.spec.containers[0].env[0].value} {.spec.containers[0].ports[0].containerPort} "
            + "{.spec.containers[0].resources.requests.cpu} {.spec.containers[1].name} {.spec.containers[1].resources.requests.cpu}";
        const string Given = "10 scratch 250m train SEED=7 8080 1 sidecar 500m";
        Assert.Equal(Given, await kube.Get("deployment/pm-deploy", Template.Replace("{.spec.", "{.spec.template.spec.", StringComparison.Ordinal)));
        var pod = await kube.WaitFor("pods -l app=pm-deploy", "{.items[*].metadata.name}", names => names.Length > 0);
        Assert.Equal(Given, await kube.Get($"pod/{pod}", Template));

        var again = (await kube.Run("apply", "-f", manifest)).Succeeded();
        Assert.Equal("deployment.apps/pm-deploy unchanged", again.Output.Trim());
        Assert.DoesNotContain("Warning", again.Error);

        var changed = await kube.Run("apply", "-f", kube.Manifest("pm-deploy-2", Deployment("pm-deploy", "evaluate")));
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("The Deployment \"pm-deploy\" is invalid: spec.template: Invalid value: the pod template cannot change once created", changed.Error);
        Assert.Equal("train", await kube.Get("deployment/pm-deploy", "{.spec.template.spec.containers[0].command[0]}"));
    }

    /// <summary>
    /// A template's container with limits only is served without requests, its pod with them: the API server defaults
    /// requests from limits for a Pod, not a PodTemplate (kubernetes v1.35 pkg/apis/core/v1/defaults.go SetDefaults_Pod:
    /// "we only want this defaulting semantic to take place on a v1.Pod and not a v1.PodTemplate").
    /// </summary>
    [Fact]
    public async Task A_deployments_template_with_limits_only_is_served_without_requests_its_pod_with_them()
    {
        var limitsOnly = Deployment("pm-deploy-limits", "train").Replace("requests: {cpu: 500m, memory: 256Mi}", "limits: {cpu: 500m, memory: 256Mi}", StringComparison.Ordinal);
        Assert.Contains("limits: {cpu: 500m", limitsOnly);
        var manifest = kube.Manifest("pm-deploy-limits", limitsOnly);
        Assert.Equal("deployment.apps/pm-deploy-limits created", (await kube.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
        const string Sidecar = "{.spec.containers[1].resources.limits.cpu}/{.spec.containers[1].resources.requests.cpu}";
        Assert.Equal("500m/", await kube.Get("deployment/pm-deploy-limits", Sidecar.Replace("{.spec.", "{.spec.template.spec.", StringComparison.Ordinal)));
        var pod = await kube.WaitFor("pods -l app=pm-deploy-limits", "{.items[*].metadata.name}", names => names.Length > 0);
        Assert.Equal("500m/500m", await kube.Get($"pod/{pod}", Sidecar));
        Assert.Equal("deployment.apps/pm-deploy-limits unchanged", (await kube.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
    }

    /// <summary>A template beyond the bound kept is served as modeled, the client told so, as for a pod.</summary>
    [Fact]
    public async Task A_deployment_template_beyond_the_bound_kept_is_created_with_a_warning()
    {
        var large = Deployment("pm-deploy-large", "train").Replace("terminationGracePeriodSeconds: 10", $"serviceAccountName: {new string('s', 70 * 1024)}");
        Assert.Contains("sssss", large);
        var created = (await kube.Run("create", "-f", kube.Manifest("pm-deploy-large", large))).Succeeded();
        Assert.Equal("deployment.apps/pm-deploy-large created", created.Output.Trim());
        Assert.Contains("Warning: spec.template.spec: ", created.Error);
        Assert.Contains("more than the 65536 kept of a pod's manifest", created.Error);
        Assert.Equal(" pm-deploy-large", await kube.Get("deployment/pm-deploy-large", "{.spec.template.spec.serviceAccountName} {.spec.template.spec.containers[0].name}"));
    }
}
