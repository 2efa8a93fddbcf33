using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A pod's labels change after creation, as a Kubernetes pod's do (ValidatePodUpdate leaves metadata.labels out of what
/// it holds fixed): kubectl label, kubectl label k-, and a re-apply whose labels changed. They were refused (422), so a
/// pod kept the labels it was made with, and other pods' affinity counted it by them.
/// </summary>
public sealed class KubectlPodLabelsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <summary>
    /// A pod that must not share a node with a pod labelled team=<paramref name="team"/> (the topology is the test label,
    /// which one node holds in each test: kubernetes.io/hostname is not set here).
    /// </summary>
    private static string AntiAffine(string name, string test, string team) => KubeManifests.Pod(name, test, $$"""
          affinity:
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - labelSelector:
                  matchLabels: {team: {{team}}}
                topologyKey: test
        """);

    /// <summary>
    /// Kube's InterPodAffinity filter (pkg/scheduler/framework/plugins/interpodaffinity/filtering.go, satisfyPodAntiAffinity)
    /// refuses a node whose topology domain holds a pod matching the incoming pod's required anti-affinity term, by that
    /// pod's labels as they are now; and a label update of a bound pod (framework.UpdatePodLabel, which the plugin's
    /// isSchedulableAfterPodChange in plugin.go answers Queue for) sends the waiting pod to be tried again. So: the one
    /// node holds pl-a; once pl-a is labelled team=pl-x the anti-affine pl-b cannot go there, and once the label is removed it can.
    /// </summary>
    [Fact]
    public async Task A_label_added_to_a_running_pod_keeps_an_anti_affine_pod_away_and_its_removal_lets_it_in()
    {
        (await kube.Run("apply", "-f", kube.Manifest("pl-node", KubeManifests.Node("pl-node", "pl")))).Succeeded();
        (await kube.Run("create", "-f", kube.Manifest("pl-a", KubeManifests.Pod("pl-a", "pl")))).Succeeded();
        await kube.WaitFor("pod/pl-a", "{.status.phase}", p => p == "Running");

        Assert.Equal("pod/pl-a labeled", (await kube.Run("label", "pod", "pl-a", "team=pl-x")).Succeeded().Output.Trim());
        Assert.Equal("pl-x", await kube.Get("pod/pl-a", "{.metadata.labels.team}"));
        Assert.Equal("pod/pl-a", (await kube.Run("get", "pods", "-l", "team=pl-x", "-o", "name")).Succeeded().Output.Trim());

        (await kube.Run("create", "-f", kube.Manifest("pl-b", AntiAffine("pl-b", "pl", "pl-x")))).Succeeded();
        var message = await kube.WaitFor("pod/pl-b", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Length > 0);
        Assert.Contains("1 node(s) didn't match pod anti-affinity rules", message);
        Assert.Equal("Pending", await kube.Get("pod/pl-b", "{.status.phase}"));

        Assert.Equal("pod/pl-a unlabeled", (await kube.Run("label", "pod", "pl-a", "team-")).Succeeded().Output.Trim());
        Assert.Equal("pl-node", await kube.WaitFor("pod/pl-b", "{.spec.nodeName}", n => n.Length > 0));
        Assert.Equal("", await kube.Get("pod/pl-a", "{.metadata.labels.team}"));
        // Nothing else of the relabelled pod moved.
        Assert.Equal("Running pl-node", await kube.Get("pod/pl-a", "{.status.phase} {.spec.nodeName}"));
    }

    /// <summary>kubectl apply of the pod's manifest with other labels patches them (as the API server takes them): configured, then unchanged.</summary>
    [Fact]
    public async Task Reapplying_a_manifest_with_other_labels_configures_the_pod_and_other_pods_see_them()
    {
        (await kube.Run("apply", "-f", kube.Manifest("plr-node", KubeManifests.Node("plr-node", "plr")))).Succeeded();
        var labelled = kube.Manifest("plr-a", KubeManifests.Pod("plr-a", "plr", extraMetadata: "  labels: {team: plr-x, tier: gold}"));
        Assert.Equal("pod/plr-a created", (await kube.Run("apply", "-f", labelled)).Succeeded().Output.Trim());
        await kube.WaitFor("pod/plr-a", "{.status.phase}", p => p == "Running");

        (await kube.Run("create", "-f", kube.Manifest("plr-b", AntiAffine("plr-b", "plr", "plr-x")))).Succeeded();
        await kube.WaitFor("pod/plr-b", "{.status.conditions[?(@.type==\"PodScheduled\")].message}", m => m.Contains("anti-affinity"));

        var relabelled = kube.Manifest("plr-a-2", KubeManifests.Pod("plr-a", "plr", extraMetadata: "  labels: {team: plr-y, tier: gold}"));
        Assert.Equal("pod/plr-a configured", (await kube.Run("apply", "-f", relabelled)).Succeeded().Output.Trim());
        Assert.Equal("plr-y gold", await kube.Get("pod/plr-a", "{.metadata.labels.team} {.metadata.labels.tier}"));
        Assert.Equal("pod/plr-a unchanged", (await kube.Run("apply", "-f", relabelled)).Succeeded().Output.Trim());
        Assert.Equal("plr-node", await kube.WaitFor("pod/plr-b", "{.spec.nodeName}", n => n.Length > 0));
    }

    [Fact]
    public async Task A_waiting_pod_is_relabelled_and_a_deployments_pod_keeps_matching_its_selector()
    {
        // No node is labelled test=plw: the pod waits, and its new labels are stored and served all the same.
        (await kube.Run("create", "-f", kube.Manifest("plw-a", KubeManifests.Pod("plw-a", "plw")))).Succeeded();
        await kube.WaitFor("pod/plw-a", "{.status.conditions[?(@.type==\"PodScheduled\")].reason}", r => r == "Unschedulable");
        Assert.Equal("pod/plw-a labeled", (await kube.Run("label", "pod", "plw-a", "team=plw-x")).Succeeded().Output.Trim());
        Assert.Equal("plw-x Pending", await kube.Get("pod/plw-a", "{.metadata.labels.team} {.status.phase}"));
        // A label value Kubernetes would refuse (63 characters at most, apimachinery's IsValidLabelValue) is 422 on the labels.
        using var tooLong = await kube.Http.PatchAsync("api/v1/namespaces/default/pods/plw-a",
            new StringContent(System.Text.Json.JsonSerializer.Serialize(new { metadata = new { labels = new { team = new string('x', 64) } } }),
                System.Text.Encoding.UTF8, "application/merge-patch+json"));
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
        var status = System.Text.Json.JsonDocument.Parse(await tooLong.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("metadata.labels", status.GetProperty("details").GetProperty("causes")[0].GetProperty("field").GetString());
        Assert.Equal("plw-x", await kube.Get("pod/plw-a", "{.metadata.labels.team}"));

        // A label that takes a deployment's pod out of its selector would orphan it in Kubernetes; here it is refused (422).
        (await kube.Run("apply", "-f", kube.Manifest("plw-node", KubeManifests.Node("plw-d-node", "plwd")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("plw-d", KubeManifests.Deployment("plw-d", "plwd")))).Succeeded();
        await kube.WaitFor("deployment/plw-d", "{.status.readyReplicas}", r => r == "1");
        var pod = (await kube.Run("get", "pods", "-l", "app=plw-d", "-o", "name")).Succeeded().Output.Trim();
        Assert.Equal($"{pod} labeled", (await kube.Run("label", pod, "tier=gold")).Succeeded().Output.Trim());
        Assert.Equal("plw-d gold", await kube.Get(pod, "{.metadata.labels.app} {.metadata.labels.tier}"));
        var orphaned = await kube.Run("label", pod, "app-");
        Assert.Equal(1, orphaned.ExitCode);
        Assert.Contains("is invalid: metadata.labels: Invalid value: the pod would no longer match the selector of its ReplicaSet", orphaned.Error);
        Assert.Equal("plw-d", await kube.Get(pod, "{.metadata.labels.app}"));
    }

    /// <summary>
    /// The new labels are stored with the pod and with its node's binding, which a restarted silo's view reads: after a
    /// restart on the same Redis the anti-affine pod is still kept off the node by them (a binding stored with the old
    /// labels would let it in), and removing the label lets it in.
    /// </summary>
    [Fact]
    public async Task A_restarted_silo_counts_a_running_pods_new_labels()
    {
        using var redis = RedisServer.Start();
        using var kubectl = new OwnSiloKubectl("mas-labels-");
        var clusterId = $"labels-{redis.Port}";
        await using (var silo = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId))
        {
            kubectl.Use(silo);
            (await kubectl.Run("apply", "-f", kubectl.Manifest("node", KubeManifests.Node("pls-node", "pls")))).Succeeded();
            (await kubectl.Run("create", "-f", kubectl.Manifest("a", KubeManifests.Pod("pls-a", "pls")))).Succeeded();
            await kubectl.Until("pod/pls-a", "{.status.phase}", "Running");
            (await kubectl.Run("label", "pod", "pls-a", "team=pls-x")).Succeeded();
        }
        await using (var restarted = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId))
        {
            kubectl.Use(restarted);
            Assert.Equal("pls-x Running", await kubectl.Get("pod/pls-a", "{.metadata.labels.team} {.status.phase}"));
            (await kubectl.Run("create", "-f", kubectl.Manifest("b", AntiAffine("pls-b", "pls", "pls-x")))).Succeeded();
            await kubectl.Until("pod/pls-b", "{.status.conditions[?(@.type==\"PodScheduled\")].reason}", "Unschedulable");
            (await kubectl.Run("label", "pod", "pls-a", "team-")).Succeeded();
            await kubectl.Until("pod/pls-b", "{.spec.nodeName}", "pls-node");
        }
    }
}
