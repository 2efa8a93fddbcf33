using System.Diagnostics;
using System.Text.Json;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>The real kubectl against a live silo: what a platform engineer would type, and what it prints.</summary>
public sealed class KubectlTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private static string Node(string name, string cpu, string gpus, string test) => KubeManifests.Node(name, test, cpu, gpus);

    private static string Pod(string name, string test, string gpus, string app = "none", string scheduler = "default-scheduler") => $"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
          labels:
            app: {app}
        spec:
          schedulerName: {scheduler}
          nodeSelector:
            test: {test}
          containers:
          - name: main
            image: pytorch/pytorch:2.4
            resources:
              requests:
                cpu: "2"
                memory: 4Gi
              limits:
                nvidia.com/gpu: "{gpus}"

        """;

    [Fact]
    public async Task Kubectl_version_and_api_resources_work_against_the_silo()
    {
        var version = await kube.Run("version", "-o", "json");
        version.Succeeded();
        var server = JsonDocument.Parse(version.Output).RootElement.GetProperty("serverVersion");
        Assert.Equal("1", server.GetProperty("major").GetString());
        Assert.StartsWith("v1.32.", server.GetProperty("gitVersion").GetString());

        var resources = (await kube.Run("api-resources")).Succeeded();
        Assert.Equal("", resources.Error);
        foreach (var line in new[] { "pods", "nodes", "events", "deployments" })
            Assert.Contains(resources.Output.Split('\n'), l => l.StartsWith(line + " ", StringComparison.Ordinal));
        Assert.Contains("apps/v1", resources.Output);
    }

    [Fact]
    public async Task Applied_gpu_pod_runs_on_the_gpu_node_and_shows_it_in_wide_output()
    {
        (await kube.Run("apply", "-f", kube.Manifest("gpu-nodes", Node("kc-gpu-a", "16", "2", "gpu") + "---\n" + Node("kc-cpu-a", "16", "0", "gpu")))).Succeeded();
        var applied = (await kube.Run("apply", "-f", kube.Manifest("gpu-pod", Pod("kc-train", "gpu", "1", scheduler: "fgd")))).Succeeded();
        Assert.Equal("pod/kc-train created", applied.Output.Trim());

        await kube.WaitFor("pod/kc-train", "{.status.phase}", phase => phase == "Running");
        var wide = (await kube.Run("get", "pod", "kc-train", "-o", "wide")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = wide[0];
        var row = wide[1];
        Assert.Equal("kc-gpu-a", Cell(header, row, "NODE"));
        Assert.Equal("Running", Cell(header, row, "STATUS"));
        Assert.Equal("1/1", Cell(header, row, "READY"));
        Assert.Equal("fgd", (await kube.Run("get", "pod", "kc-train", "-o", "jsonpath={.spec.schedulerName}")).Succeeded().Output);

        var onNode = (await kube.Run("get", "pods", "--field-selector", "spec.nodeName=kc-gpu-a", "-o", "name")).Succeeded();
        Assert.Equal("pod/kc-train", onNode.Output.Trim());
        var onOther = (await kube.Run("get", "pods", "--field-selector", "spec.nodeName=kc-cpu-a", "-o", "name")).Succeeded();
        Assert.Equal("", onOther.Output.Trim());

        // The same manifest again changes nothing; a changed one is refused, as for a pod's immutable fields.
        (await kube.Run("apply", "-f", kube.Manifest("gpu-pod", Pod("kc-train", "gpu", "1", scheduler: "fgd")))).Succeeded();
        var changedManifest = Pod("kc-train", "gpu", "1", scheduler: "fgd").Replace("cpu: \"2\"", "cpu: \"3\"");
        Assert.Contains("cpu: \"3\"", changedManifest);
        var changed = await kube.Run("apply", "-f", kube.Manifest("gpu-pod-changed", changedManifest));
        Assert.NotEqual(0, changed.ExitCode);
        Assert.Contains("is invalid", changed.Error);
    }

    [Fact]
    public async Task Cordoned_node_takes_no_pods_and_describe_says_why_until_uncordoned()
    {
        (await kube.Run("apply", "-f", kube.Manifest("cordon-node", Node("kc-cordon", "8", "1", "cordon")))).Succeeded();
        Assert.Equal("node/kc-cordon cordoned", (await kube.Run("cordon", "kc-cordon")).Succeeded().Output.Trim());
        var nodes = (await kube.Run("get", "node", "kc-cordon")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Ready,SchedulingDisabled", Cell(nodes[0], nodes[1], "STATUS"));

        (await kube.Run("create", "-f", kube.Manifest("cordon-pod", Pod("kc-waits", "cordon", "1")))).Succeeded();
        await kube.WaitFor("pod/kc-waits", "{.status.conditions[?(@.type==\"PodScheduled\")].reason}", r => r == "Unschedulable");
        var described = (await kube.Run("describe", "pod", "kc-waits")).Succeeded().Output;
        Assert.Contains("FailedScheduling", described);
        Assert.Contains("node(s) were unschedulable", described);

        Assert.Equal("node/kc-cordon uncordoned", (await kube.Run("uncordon", "kc-cordon")).Succeeded().Output.Trim());
        Assert.Equal("kc-cordon", await kube.WaitFor("pod/kc-waits", "{.spec.nodeName}", n => n.Length > 0));
    }

    [Fact]
    public async Task Describe_of_a_pod_that_fits_nowhere_shows_the_unschedulable_condition_and_the_reason()
    {
        (await kube.Run("apply", "-f", kube.Manifest("small-node", Node("kc-small", "8", "2", "huge")))).Succeeded();
        (await kube.Run("create", "-f", kube.Manifest("huge-pod", Pod("kc-huge", "huge", "8")))).Succeeded();
        await kube.WaitFor("pod/kc-huge", "{.status.conditions[?(@.type==\"PodScheduled\")].status}", s => s == "False");
        Assert.Equal("Pending", (await kube.Run("get", "pod", "kc-huge", "-o", "jsonpath={.status.phase}")).Succeeded().Output);
        var described = (await kube.Run("describe", "pod", "kc-huge")).Succeeded().Output;
        Assert.Matches(@"PodScheduled\s+False", described);
        Assert.Matches(@"Warning\s+FailedScheduling\s+.*Insufficient nvidia\.com/gpu", described);
        var events = (await kube.Run("get", "events", "--field-selector", "involvedObject.name=kc-huge")).Succeeded().Output;
        Assert.Contains("FailedScheduling", events);
        Assert.Contains("pod/kc-huge", events);
    }

    [Fact]
    public async Task Deployment_is_applied_and_scaled()
    {
        (await kube.Run("apply", "-f", kube.Manifest("deploy-node", Node("kc-deploy", "32", "0", "deploy")))).Succeeded();
        var deployment = KubeManifests.Deployment("kc-web", "deploy", replicas: 2);
        Assert.Equal("deployment.apps/kc-web created", (await kube.Run("apply", "-f", kube.Manifest("deploy", deployment))).Succeeded().Output.Trim());
        await kube.WaitFor("deployment/kc-web", "{.status.readyReplicas}", r => r == "2");
        Assert.Equal("deployment.apps/kc-web scaled", (await kube.Run("scale", "deployment", "kc-web", "--replicas=4")).Succeeded().Output.Trim());
        await kube.WaitFor("deployment/kc-web", "{.status.readyReplicas}", r => r == "4");
        var pods = (await kube.Run("get", "pods", "-l", "app=kc-web", "-o", "name")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, pods.Length);
        Assert.All(pods, p => Assert.StartsWith("pod/kc-web-", p));
        var table = (await kube.Run("get", "deployment", "kc-web")).Succeeded().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("4/4", Cell(table[0], table[1], "READY"));
        (await kube.Run("scale", "deployment", "kc-web", "--replicas=1")).Succeeded();
        await kube.WaitFor("deployment/kc-web", "{.spec.replicas}", r => r == "1");
        // Scaling down removes pods, not just the number.
        var left = await kube.WaitFor("pods -l app=kc-web", "{.items[*].metadata.name}", names => names.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 1);
        Assert.Contains(left, pods.Select(p => p["pod/".Length..]));
    }

    [Fact]
    public async Task Drain_evicts_a_deployments_pods_onto_another_node()
    {
        (await kube.Run("apply", "-f", kube.Manifest("drain-a", Node("kc-drain-a", "8", "0", "drain")))).Succeeded();
        var deployment = KubeManifests.Deployment("kc-drained", "drain", replicas: 2, cpu: "\"1\"", memory: "1Gi");
        (await kube.Run("apply", "-f", kube.Manifest("drained", deployment))).Succeeded();
        await kube.WaitFor("deployment/kc-drained", "{.status.readyReplicas}", r => r == "2");
        (await kube.Run("apply", "-f", kube.Manifest("drain-b", Node("kc-drain-b", "8", "0", "drain")))).Succeeded();

        var drained = (await kube.Run("drain", "kc-drain-a", "--timeout=60s")).Succeeded();
        Assert.Contains("node/kc-drain-a drained", drained.Output);
        Assert.Contains("evicting pod default/kc-drained-", drained.Error + drained.Output);
        await kube.WaitFor("deployment/kc-drained", "{.status.readyReplicas}", r => r == "2");
        var nodes = (await kube.Run("get", "pods", "-l", "app=kc-drained", "-o", "jsonpath={.items[*].spec.nodeName}")).Succeeded().Output;
        Assert.Equal("kc-drain-b kc-drain-b", nodes);
        Assert.Equal("true", (await kube.Run("get", "node", "kc-drain-a", "-o", "jsonpath={.spec.unschedulable}")).Succeeded().Output);
    }

    [Fact]
    public async Task Watch_shows_a_pod_move_from_pending_to_running_and_delete_removes_it()
    {
        var lines = new List<string>();
        using var watch = Process.Start(kube.StartInfo(["get", "pods", "-l", "app=watched", "-w"]))!;
        var reading = Task.Run(async () =>
        {
            while (await watch.StandardOutput.ReadLineAsync() is { } line) lock (lines) lines.Add(line);
        });
        var errors = watch.StandardError.ReadToEndAsync();
        try
        {
            // The pod's node does not exist yet, so the watch shows it waiting however late kubectl or the silo's poll
            // gets to it (no fixed delay to outlast); the node comes once the waiting row was read.
            (await kube.Run("create", "-f", kube.Manifest("watched", Pod("kc-watched", "watch", "1", app: "watched")))).Succeeded();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && !Seen(lines, "Pending")) await Task.Delay(100);
            Assert.True(Seen(lines, "Pending"), $"stdout:\n{string.Join('\n', lines)}");
            (await kube.Run("apply", "-f", kube.Manifest("watch-node", Node("kc-watch", "8", "1", "watch")))).Succeeded();
            deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && !Seen(lines, "Running")) await Task.Delay(100);
            Assert.True(Seen(lines, "Running"), $"stdout:\n{string.Join('\n', lines)}\nkubectl exited: {watch.HasExited}{(watch.HasExited ? "\nstderr:\n" + await errors : "")}");
            lock (lines)
            {
                var rows = lines.Where(l => l.StartsWith("kc-watched ", StringComparison.Ordinal)).ToList();
                Assert.Contains(rows, r => r.Contains("Pending") || r.Contains("ContainerCreating"));
                Assert.True(rows.FindIndex(r => r.Contains("Running")) > 0, "the Running row comes after the pod was seen waiting");
            }
        }
        finally
        {
            watch.Kill(entireProcessTree: true);
            await watch.WaitForExitAsync();
            await reading;
            await errors;
        }

        Assert.Equal("pod \"kc-watched\" deleted", (await kube.Run("delete", "pod", "kc-watched")).Succeeded().Output.Trim());
        var gone = await kube.Run("get", "pod", "kc-watched");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("Error from server (NotFound): pods \"kc-watched\" not found", gone.Error);
    }

    [Fact]
    public async Task Errors_are_kubernetes_statuses()
    {
        var missing = await kube.Run("get", "pod", "kc-nope");
        Assert.Contains("Error from server (NotFound): pods \"kc-nope\" not found", missing.Error);

        (await kube.Run("apply", "-f", kube.Manifest("dup-node", Node("kc-dup", "4", "0", "dup")))).Succeeded();
        var duplicate = await kube.Run("create", "-f", kube.Manifest("dup-node", Node("kc-dup", "4", "0", "dup")));
        Assert.Contains("Error from server (AlreadyExists)", duplicate.Error);

        var badPolicy = await kube.Run("create", "-f", kube.Manifest("bad-policy", Pod("kc-bad", "dup", "0", scheduler: "no-such-policy")));
        Assert.Contains("The Pod \"kc-bad\" is invalid: spec.schedulerName", badPolicy.Error);
        Assert.Contains("unknown policy 'no-such-policy'", badPolicy.Error);

        var badShare = await kube.Run("create", "-f", kube.Manifest("bad-share", Pod("kc-bad", "dup", "1500m")));
        Assert.Contains("The Pod \"kc-bad\" is invalid", badShare.Error);
        Assert.Contains("whole number of GPUs", badShare.Error);

        // kubectl asks for strict field validation; the server refuses a field Pods do not have.
        var typo = await kube.Run("create", "-f", kube.Manifest("typo", Pod("kc-typo", "dup", "0").Replace("nodeSelector:", "nodeSelecter:")));
        Assert.Contains("unknown field \"spec.nodeSelecter\"", typo.Error);
    }

    /// <summary>
    /// A token the silo does not know is refused for reads too, as the API server refuses an unknown bearer token before the
    /// anonymous user is considered (staging/src/k8s.io/apiserver/pkg/authentication/request/bearertoken/bearertoken.go:
    /// "invalid bearer token"; union.NewFailOnError in pkg/kubeapiserver/authenticator/config.go): kubectl with a revoked key
    /// is told so at once. It was served as a caller without a key, so the read passed and only writes failed.
    /// Reads without any key stay open (SecurityTests).
    /// </summary>
    [Fact]
    public async Task A_wrong_bearer_token_is_refused_for_reads_and_writes()
    {
        (await kube.Run("apply", "-f", kube.Manifest("auth-node", Node("kc-auth", "4", "0", "auth")))).Succeeded();
        var read = await kube.RunWith(kube.WrongKeyKubeconfig, "get", "node", "kc-auth", "-o", "name");
        Assert.NotEqual(0, read.ExitCode);
        Assert.Contains("You must be logged in to the server (the API key is not valid)", read.Error);
        // kubectl cordon reads the node first, and is refused there; the node tells that nothing was written.
        var write = await kube.RunWith(kube.WrongKeyKubeconfig, "cordon", "kc-auth");
        Assert.Contains("You must be logged in to the server (the API key is not valid)", write.Error);
        var label = await kube.RunWith(kube.WrongKeyKubeconfig, "label", "node", "kc-auth", "zone=b");
        Assert.NotEqual(0, label.ExitCode);
        Assert.Contains("You must be logged in to the server", label.Error);
        Assert.Equal("", (await kube.Run("get", "node", "kc-auth", "-o", "jsonpath={.spec.unschedulable}")).Succeeded().Output);
    }

    private static bool Seen(List<string> lines, string status)
    {
        lock (lines) return lines.Any(l => l.StartsWith("kc-watched ", StringComparison.Ordinal) && l.Contains(status));
    }

    /// <summary>A cell of kubectl's table output, found by the column's position in the header.</summary>
    private static string Cell(string header, string row, string column)
    {
        var start = header.IndexOf(column, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no column {column} in '{header}'");
        var end = start + column.Length;
        while (end < header.Length && header[end] == ' ') end++;
        var cell = end >= header.Length || start >= row.Length ? row[Math.Min(start, row.Length)..] : row[start..Math.Min(end, row.Length)];
        return cell.Trim();
    }
}
