using System.Net;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// The resourceVersion a pod GET serves on a silo that has not listed the pod yet: it names the pod as it is, as the API
/// server's does (a version changes only when its object does), so a manifest saved from it is current until the pod
/// changes. Each test has a silo of its own: the shared fixture's has listed long before.
/// </summary>
public sealed class KubectlPodVersionTests
{
    private const string Conflict = "the object has been modified; please apply your changes to the latest version and try again";

    /// <summary>
    /// kubectl get -o yaml before any listing, then kubectl get pods, then kubectl apply of the saved manifest: the GET
    /// served the silo's moving version, the listing gave the pod another, and the apply (which sends the manifest's
    /// resourceVersion when it differs from the live one: kubectl apply/patcher.go, strategicpatch three-way merge) was a
    /// 409 although nothing had changed. A manifest saved before a real change is still a 409.
    /// </summary>
    [Fact]
    public async Task A_manifest_saved_before_any_listing_applies_until_its_pod_changes()
    {
        await using var silo = await SiloHost.StartAsync();
        using var kubectl = new OwnSiloKubectl("mas-podversion-");
        kubectl.Use(silo);
        (await kubectl.Run("create", "-f", kubectl.Manifest("pod", KubeManifests.Pod("pv-pod", "pv-none")))).Succeeded();
        await Unschedulable(kubectl, "pv-pod");

        var saved = kubectl.Manifest("saved", (await kubectl.Run("get", "pod", "pv-pod", "-o", "yaml")).Succeeded().Output);
        (await kubectl.Run("get", "pods")).Succeeded();
        (await kubectl.Run("apply", "-f", saved)).Succeeded();

        var beforeLabel = kubectl.Manifest("before-label", (await kubectl.Run("get", "pod", "pv-pod", "-o", "yaml")).Succeeded().Output);
        (await kubectl.Run("label", "pod", "pv-pod", "tier=web")).Succeeded();
        var stale = await kubectl.Run("apply", "-f", beforeLabel);
        Assert.True(stale.ExitCode == 1, stale.ToString());
        Assert.Contains(Conflict, stale.Error);
        Assert.Equal("web", await kubectl.Get("pod/pv-pod", "{.metadata.labels.tier}"));
    }

    /// <summary>
    /// kubectl replace of what kubectl get -o yaml served, on a silo that had not listed the pod: the PUT was a 405 (no
    /// update of a pod was served) and its resourceVersion the silo's moving one. A label added in the saved manifest is
    /// stored; the manifest saved before that replace is stale (409); a changed image is refused as a patch's is (422);
    /// a body naming another pod than the URL is 400 in the API server's words (handlers/rest.go, checkName).
    /// </summary>
    [Fact]
    public async Task A_pod_saved_before_any_listing_is_replaced_with_a_label_added()
    {
        await using var silo = await SiloHost.StartAsync();
        using var kubectl = new OwnSiloKubectl("mas-podversion-replace-");
        kubectl.Use(silo);
        (await kubectl.Run("create", "-f", kubectl.Manifest("pod", KubeManifests.Pod("pv-replaced", "pv-none")))).Succeeded();
        await Unschedulable(kubectl, "pv-replaced");

        var saved = (await kubectl.Run("get", "pod", "pv-replaced", "-o", "yaml")).Succeeded().Output;
        (await kubectl.Run("get", "pods")).Succeeded();
        var labelled = saved.Replace("\n  name: pv-replaced\n", "\n  labels:\n    tier: web\n  name: pv-replaced\n");
        Assert.NotEqual(saved, labelled);
        Assert.Equal("pod/pv-replaced replaced", (await kubectl.Run("replace", "-f", kubectl.Manifest("labelled", labelled))).Succeeded().Output.Trim());
        Assert.Equal("web", await kubectl.Get("pod/pv-replaced", "{.metadata.labels.tier}"));

        var stale = await kubectl.Run("replace", "-f", kubectl.Manifest("saved", saved));
        Assert.True(stale.ExitCode == 1, stale.ToString());
        Assert.Contains(Conflict, stale.Error);
        Assert.Equal("web", await kubectl.Get("pod/pv-replaced", "{.metadata.labels.tier}"));

        var current = (await kubectl.Run("get", "pod", "pv-replaced", "-o", "yaml")).Succeeded().Output;
        var image = await kubectl.Run("replace", "-f", kubectl.Manifest("image", current.Replace("image: busybox:1.36", "image: busybox:1.37")));
        Assert.True(image.ExitCode == 1, image.ToString());
        Assert.Contains("The Pod \"pv-replaced\" is invalid: spec.containers[0].image: Forbidden", image.Error);
        Assert.Equal("busybox:1.36", await kubectl.Get("pod/pv-replaced", "{.spec.containers[0].image}"));

        using var elsewhere = await silo.Http.PutAsync("k8s/api/v1/namespaces/default/pods/pv-other", Json(PodJson("pv-replaced", "pv")));
        var status = await Status(elsewhere, HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal("the name of the object (pv-replaced) does not match the name on the URL (pv-other)", status.GetProperty("message").GetString());
    }

    /// <summary>
    /// What a GET records, a watch sees as a listing's change would be seen: a watch from a version before the pod's
    /// creation gets it ADDED, then MODIFIED for each later state a read recorded, the last at the version the GET served, and the listing after it (finding the pod as recorded)
    /// adds nothing and lists the pod at that version.
    /// </summary>
    [Fact]
    public async Task A_watch_sees_a_pod_a_get_recorded_once_at_the_version_the_get_served()
    {
        await using var silo = await SiloHost.StartAsync();
        using var kubectl = new OwnSiloKubectl("mas-podversion-watch-");
        kubectl.Use(silo);
        var http = silo.Http;
        var from = await ResourceVersion(http, "k8s/api/v1/namespaces/default/pods");
        using (var created = await http.PostAsync("k8s/api/v1/namespaces/default/pods", Json(PodJson("pv-watched", "pv"))))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await Unschedulable(kubectl, "pv-watched");

        var served = await ResourceVersion(http, "k8s/api/v1/namespaces/default/pods/pv-watched");
        using (var listed = JsonDocument.Parse(await http.GetStringAsync("k8s/api/v1/namespaces/default/pods")))
            Assert.Equal(served, Assert.Single(listed.RootElement.GetProperty("items").EnumerateArray()).GetProperty("metadata").GetProperty("resourceVersion").GetString());

        // The stream ends after a second; what it held by then is every change after `from`.
        var events = (await http.GetStringAsync($"k8s/api/v1/namespaces/default/pods?watch=true&resourceVersion={from}&timeoutSeconds=1"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        // The scheduler may mark the pod between kubectl's GETs (each GET records a state it has not), so the pod may be
        // ADDED at one state and MODIFIED at later ones: versions increase, and the last is the one served.
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal("pv-watched", e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString()));
        Assert.Equal("ADDED", events[0].GetProperty("type").GetString());
        Assert.All(events.Skip(1), e => Assert.Equal("MODIFIED", e.GetProperty("type").GetString()));
        var versions = events.Select(e => long.Parse(e.GetProperty("object").GetProperty("metadata").GetProperty("resourceVersion").GetString()!)).ToList();
        Assert.Equal(versions.Order().Distinct(), versions);
        Assert.Equal(served, versions[^1].ToString());
    }

    private static async Task<string> ResourceVersion(HttpClient http, string path)
    {
        using var body = JsonDocument.Parse(await http.GetStringAsync(path));
        return body.RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString()!;
    }

    /// <summary>
    /// Waits (by GETs: no listing) until the scheduler has found no node for the pod, after which it stays as it is: the
    /// tests compare versions across moments when nothing changes.
    /// </summary>
    private static Task Unschedulable(OwnSiloKubectl kubectl, string pod) =>
        kubectl.Until($"pod/{pod}", "{.status.conditions[?(@.type==\"PodScheduled\")].reason}", "Unschedulable");
}
