using System.Net;
using System.Text;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A pod keeps the annotations a client gives it (kubectl annotate, kubectl apply's last-applied-configuration); they
/// were accepted and dropped, so annotate printed "annotated" and kept nothing and every re-apply was "configured".
/// </summary>
public sealed class KubectlPodAnnotationsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <param name="annotations">YAML lines indented as an annotation (four spaces).</param>
    private static string AnnotatedPod(string name, string test, string annotations) =>
        KubeManifests.Pod(name, test, extraMetadata: "  annotations:\n" + annotations);

    [Fact]
    public async Task Annotate_adds_and_removes_a_pods_annotation_and_leaves_the_servers_own()
    {
        (await kube.Run("apply", "-f", kube.Manifest("pa-node", KubeManifests.Node("pa-node", "pa")))).Succeeded();
        (await kube.Run("create", "-f", kube.Manifest("pa-pod", KubeManifests.Pod("pa-pod", "pa")))).Succeeded();
        await kube.WaitFor("pod/pa-pod", "{.status.phase}", p => p == "Running");
        const string Selected = "api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dpa-pod";
        var listed = JsonDocument.Parse(await kube.Http.GetStringAsync(Selected)).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString();

        Assert.Equal("pod/pa-pod annotated", (await kube.Run("annotate", "pod", "pa-pod", "team=ml", "example.com/owner=ana")).Succeeded().Output.Trim());
        Assert.Equal("ml ana kube", await kube.Get("pod/pa-pod", "{.metadata.annotations.team} {.metadata.annotations.example\\.com/owner} {.metadata.annotations.mas\\.io/scheduled-by}"));
        // A watch from before the annotate sees the pod change with its annotations.
        var watched = await kube.Http.GetStringAsync($"{Selected}&watch=true&resourceVersion={listed}&timeoutSeconds=2");
        Assert.Contains(watched.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(e => JsonDocument.Parse(e).RootElement),
            e => e.GetProperty("type").GetString() == "MODIFIED"
                && e.GetProperty("object").GetProperty("metadata").GetProperty("annotations").TryGetProperty("team", out var team) && team.GetString() == "ml");

        Assert.Equal("pod/pa-pod annotated", (await kube.Run("annotate", "pod", "pa-pod", "team-")).Succeeded().Output.Trim());
        var annotations = JsonDocument.Parse(await kube.Get("pod/pa-pod", "{.metadata.annotations}")).RootElement;
        Assert.Equal(["example.com/owner", "mas.io/scheduled-by"], annotations.EnumerateObject().Select(p => p.Name).Order());
        // Nothing else of the pod moved.
        Assert.Equal("Running pa-node kube", await kube.Get("pod/pa-pod", "{.status.phase} {.spec.nodeName} {.spec.schedulerName}"));

        var serverSet = await kube.Run("annotate", "pod", "pa-pod", "mas.io/scheduled-by=me", "--overwrite");
        Assert.Equal(1, serverSet.ExitCode);
        Assert.Contains("The Pod \"pa-pod\" is invalid: metadata.annotations[mas.io/scheduled-by]: Invalid value: set by the server", serverSet.Error);
    }

    [Fact]
    public async Task Reapplying_an_unchanged_pod_manifest_is_unchanged_without_a_warning_and_an_annotation_change_applies()
    {
        (await kube.Run("apply", "-f", kube.Manifest("pr-node", KubeManifests.Node("pr-node", "pr")))).Succeeded();
        var manifest = kube.Manifest("pr-pod", AnnotatedPod("pr-pod", "pr", "    team: ml"));
        Assert.Equal("pod/pr-pod created", (await kube.Run("apply", "-f", manifest)).Succeeded().Output.Trim());

        var again = (await kube.Run("apply", "-f", manifest)).Succeeded();
        Assert.Equal("pod/pr-pod unchanged", again.Output.Trim());
        Assert.DoesNotContain("Warning", again.Error);

        var changed = kube.Manifest("pr-pod-2", AnnotatedPod("pr-pod", "pr", "    team: research\n    tier: gold"));
        var configured = (await kube.Run("apply", "-f", changed)).Succeeded();
        Assert.Equal("pod/pr-pod configured", configured.Output.Trim());
        Assert.DoesNotContain("Warning", configured.Error);
        Assert.Equal("research gold", await kube.Get("pod/pr-pod", "{.metadata.annotations.team} {.metadata.annotations.tier}"));
        Assert.Equal("pod/pr-pod unchanged", (await kube.Run("apply", "-f", changed)).Succeeded().Output.Trim());
    }

    [Fact]
    public async Task An_invalid_annotation_key_or_oversized_annotations_are_422_and_change_nothing()
    {
        var invalid = await kube.Run("create", "-f", kube.Manifest("pi-bad", AnnotatedPod("pi-bad", "pi", "    \"bad key!\": x")));
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("The Pod \"pi-bad\" is invalid: metadata.annotations: Invalid value: annotation key 'bad key!' must be a qualified name", invalid.Error);
        Assert.Contains("NotFound", (await kube.Run("get", "pod", "pi-bad")).Error);

        (await kube.Run("create", "-f", kube.Manifest("pi-pod", KubeManifests.Pod("pi-pod", "pi")))).Succeeded();
        using var badKey = await Patch("pi-pod", """{"metadata":{"annotations":{"example.com/":"x"}}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badKey.StatusCode);
        Assert.Equal("metadata.annotations", Cause(await badKey.Content.ReadAsStringAsync()));

        // apimachinery's TotalAnnotationSizeLimitB: keys and values together at most 256 KiB (here 1 + 262144 bytes).
        using var tooLarge = await Patch("pi-pod", OneAnnotation("a", new string('x', 256 * 1024)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLarge.StatusCode);
        Assert.Contains("annotations size 262145 is larger than limit 262144", await tooLarge.Content.ReadAsStringAsync());
        using var justFits = await Patch("pi-pod", OneAnnotation("a", new string('x', 256 * 1024 - 1)));
        Assert.Equal(HttpStatusCode.OK, justFits.StatusCode);
    }

    [Fact]
    public async Task A_restarted_silo_on_the_same_redis_still_has_a_pods_annotations()
    {
        using var redis = RedisServer.Start();
        using var kubectl = new OwnSiloKubectl("mas-annotations-");
        var clusterId = $"annotations-{redis.Port}";
        var manifest = kubectl.Manifest("pod", AnnotatedPod("ps-pod", "ps", "    team: ml"));
        await using (var silo = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId))
        {
            kubectl.Use(silo);
            (await kubectl.Run("apply", "-f", manifest)).Succeeded();
            (await kubectl.Run("annotate", "pod", "ps-pod", "note=kept")).Succeeded();
        }
        await using (var restarted = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId))
        {
            kubectl.Use(restarted);
            Assert.Equal("ml kept", await kubectl.Get("pod/ps-pod", "{.metadata.annotations.team} {.metadata.annotations.note}"));
            // The REST API shows the client's annotations too.
            var rest = JsonDocument.Parse(await restarted.Http.GetStringAsync("/api/v1/pods/ps-pod")).RootElement.GetProperty("annotations");
            Assert.Equal("ml kept", $"{rest.GetProperty("team")} {rest.GetProperty("note")}");
            Assert.Equal("pod/ps-pod unchanged", (await kubectl.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
        }
    }

    private Task<HttpResponseMessage> Patch(string pod, string body) =>
        kube.Http.PatchAsync($"api/v1/namespaces/default/pods/{pod}", new StringContent(body, Encoding.UTF8, "application/merge-patch+json"));

    private static string OneAnnotation(string key, string value) =>
        JsonSerializer.Serialize(new { metadata = new { annotations = new Dictionary<string, string> { [key] = value } } });

    private static string? Cause(string status) =>
        JsonDocument.Parse(status).RootElement.GetProperty("details").GetProperty("causes")[0].GetProperty("field").GetString();
}
