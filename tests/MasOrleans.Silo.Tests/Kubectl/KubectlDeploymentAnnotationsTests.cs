using System.Net;
using System.Text;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A Deployment keeps the annotations a client gives it, as a pod does (KubectlPodAnnotationsTests): they were refused
/// or dropped, so kubectl annotate deployment kept nothing and every re-apply of an unchanged manifest printed
/// "configured" with kubectl's warning that last-applied-configuration is missing.
/// </summary>
public sealed class KubectlDeploymentAnnotationsTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    [Fact]
    public async Task Reapplying_an_unchanged_deployment_manifest_is_unchanged_without_a_warning_and_an_annotation_change_applies()
    {
        (await kube.Run("apply", "-f", kube.Manifest("da-node", KubeManifests.Node("da-node", "da")))).Succeeded();
        var manifest = kube.Manifest("da-deploy", KubeManifests.Deployment("da-web", "da", extraMetadata: "  annotations:\n    team: ml"));
        Assert.Equal("deployment.apps/da-web created", (await kube.Run("apply", "-f", manifest)).Succeeded().Output.Trim());
        await kube.WaitFor("deployment/da-web", "{.status.readyReplicas}", r => r == "1");
        var pods = await kube.Get("pods", "{.items[?(@.metadata.labels.app==\"da-web\")].metadata.name}");

        var again = (await kube.Run("apply", "-f", manifest)).Succeeded();
        Assert.Equal("deployment.apps/da-web unchanged", again.Output.Trim());
        Assert.DoesNotContain("Warning", again.Error);

        var changed = kube.Manifest("da-deploy-2", KubeManifests.Deployment("da-web", "da", extraMetadata: "  annotations:\n    team: research\n    tier: gold"));
        var configured = (await kube.Run("apply", "-f", changed)).Succeeded();
        Assert.Equal("deployment.apps/da-web configured", configured.Output.Trim());
        Assert.DoesNotContain("Warning", configured.Error);
        Assert.Equal("research gold", await kube.Get("deployment/da-web", "{.metadata.annotations.team} {.metadata.annotations.tier}"));
        Assert.Equal("deployment.apps/da-web unchanged", (await kube.Run("apply", "-f", changed)).Succeeded().Output.Trim());
        // Nothing else of the deployment moved: the same replicas, the same pods.
        Assert.Equal("1 1", await kube.Get("deployment/da-web", "{.spec.replicas} {.status.readyReplicas}"));
        Assert.Equal(pods, await kube.Get("pods", "{.items[?(@.metadata.labels.app==\"da-web\")].metadata.name}"));
    }

    [Fact]
    public async Task Annotate_adds_and_removes_a_deployments_annotation_seen_by_get_list_and_watch()
    {
        (await kube.Run("create", "-f", kube.Manifest("dn-deploy", KubeManifests.Deployment("dn-web", "dn", replicas: 0)))).Succeeded();
        const string Selected = "apis/apps/v1/namespaces/default/deployments?fieldSelector=metadata.name%3Ddn-web";
        var listed = JsonDocument.Parse(await kube.Http.GetStringAsync(Selected)).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString();

        Assert.Equal("deployment.apps/dn-web annotated", (await kube.Run("annotate", "deployment", "dn-web", "team=ml", "example.com/owner=ana")).Succeeded().Output.Trim());
        Assert.Equal("ml ana", await kube.Get("deployment/dn-web", "{.metadata.annotations.team} {.metadata.annotations.example\\.com/owner}"));
        var list = JsonDocument.Parse(await kube.Http.GetStringAsync(Selected)).RootElement.GetProperty("items")[0];
        Assert.Equal("ml", list.GetProperty("metadata").GetProperty("annotations").GetProperty("team").GetString());
        var watched = await kube.Http.GetStringAsync($"{Selected}&watch=true&resourceVersion={listed}&timeoutSeconds=2");
        Assert.Contains(watched.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(e => JsonDocument.Parse(e).RootElement),
            e => e.GetProperty("object").GetProperty("metadata").TryGetProperty("annotations", out var a) && a.TryGetProperty("team", out var team) && team.GetString() == "ml");

        Assert.Equal("deployment.apps/dn-web annotated", (await kube.Run("annotate", "deployment", "dn-web", "team-")).Succeeded().Output.Trim());
        Assert.Equal("{\"example.com/owner\":\"ana\"}", await kube.Get("deployment/dn-web", "{.metadata.annotations}"));
        Assert.Equal("0", await kube.Get("deployment/dn-web", "{.spec.replicas}"));
    }

    [Fact]
    public async Task An_invalid_annotation_key_or_oversized_annotations_are_422_and_change_nothing()
    {
        var invalid = await kube.Run("create", "-f", kube.Manifest("di-bad", KubeManifests.Deployment("di-bad", "di", extraMetadata: "  annotations:\n    \"bad key!\": x")));
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("The Deployment \"di-bad\" is invalid: metadata.annotations: Invalid value: annotation key 'bad key!' must be a qualified name", invalid.Error);
        Assert.Contains("NotFound", (await kube.Run("get", "deployment", "di-bad")).Error);

        (await kube.Run("create", "-f", kube.Manifest("di-deploy", KubeManifests.Deployment("di-web", "di", replicas: 0)))).Succeeded();
        using var badKey = await Patch("di-web", """{"metadata":{"annotations":{"example.com/":"x"}}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badKey.StatusCode);
        // apimachinery's TotalAnnotationSizeLimitB (pkg/api/validation/objectmeta.go): at most 256 KiB, here 1 + 262144 bytes.
        using var tooLarge = await Patch("di-web", JsonSerializer.Serialize(new { metadata = new { annotations = new Dictionary<string, string> { ["a"] = new string('x', 256 * 1024) } } }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLarge.StatusCode);
        Assert.Contains("annotations size 262145 is larger than limit 262144", await tooLarge.Content.ReadAsStringAsync());
        Assert.Equal("", await kube.Get("deployment/di-web", "{.metadata.annotations}"));
    }

    [Fact]
    public async Task A_restarted_silo_on_the_same_redis_still_has_a_deployments_annotations()
    {
        using var redis = RedisServer.Start();
        var clusterId = $"deployment-annotations-{redis.Port}";
        await using (var silo = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId))
        {
            using var created = await silo.Http.PostAsync("/k8s/apis/apps/v1/namespaces/default/deployments", Json(
                """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dr-web","annotations":{"team":"ml"}},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"dr-web"}},"template":{"metadata":{"labels":{"app":"dr-web"}},"spec":{"containers":[{"name":"main","image":"nginx:1.27","resources":{"requests":{"cpu":"500m"}}}]}}}}"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await using var restarted = await SiloHost.StartAsync(redis.ConnectionString, clusterId: clusterId);
        var deployment = JsonDocument.Parse(await restarted.Http.GetStringAsync("/k8s/apis/apps/v1/namespaces/default/deployments/dr-web")).RootElement;
        Assert.Equal("ml", deployment.GetProperty("metadata").GetProperty("annotations").GetProperty("team").GetString());
    }

    private Task<HttpResponseMessage> Patch(string deployment, string body) =>
        kube.Http.PatchAsync($"apis/apps/v1/namespaces/default/deployments/{deployment}", Json(body, "application/merge-patch+json"));
}
