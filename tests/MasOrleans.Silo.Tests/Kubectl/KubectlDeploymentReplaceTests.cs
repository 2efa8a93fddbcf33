using System.Net;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// kubectl replace of a deployment (PUT): it was a 405. The manifest is whole, so what it leaves out is its default
/// (replicas 1, no annotations), as the API server's update stores the object given; what a workload cannot change
/// (its template) is 422 as for a patch. (Pods: KubectlPodVersionTests.)
/// </summary>
public sealed class KubectlDeploymentReplaceTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    [Fact]
    public async Task A_deployment_is_replaced_with_its_manifests_replicas_and_annotations()
    {
        (await kube.Run("create", "-f", kube.Manifest("dr-deploy", KubeManifests.Deployment("dr-web", "dr-none", replicas: 0)))).Succeeded();

        var two = kube.Manifest("dr-two", KubeManifests.Deployment("dr-web", "dr-none", replicas: 2, extraMetadata: "  annotations:\n    team: a"));
        Assert.Equal("deployment.apps/dr-web replaced", (await kube.Run("replace", "-f", two)).Succeeded().Output.Trim());
        Assert.Equal("2 a", await kube.Get("deployment/dr-web", "{.spec.replicas} {.metadata.annotations.team}"));

        // Without replicas and annotations: replicas 1 (apps/v1's default), the annotation gone.
        var bare = kube.Manifest("dr-bare", KubeManifests.Deployment("dr-web", "dr-none", replicas: null));
        (await kube.Run("replace", "-f", bare)).Succeeded();
        Assert.Equal("1 ", await kube.Get("deployment/dr-web", "{.spec.replicas} {.metadata.annotations.team}"));

        // What kubectl get served replaces the deployment unchanged.
        var served = (await kube.Run("get", "deployment", "dr-web", "-o", "yaml")).Succeeded().Output;
        (await kube.Run("replace", "-f", kube.Manifest("dr-served", served))).Succeeded();
        Assert.Equal("1", await kube.Get("deployment/dr-web", "{.spec.replicas}"));

        var image = await kube.Run("replace", "-f", kube.Manifest("dr-image", KubeManifests.Deployment("dr-web", "dr-none", replicas: 3).Replace("nginx:1.27", "nginx:1.28")));
        Assert.True(image.ExitCode == 1, image.ToString());
        Assert.Contains("The Deployment \"dr-web\" is invalid: spec.template", image.Error);
        Assert.Equal("1 nginx:1.27", await kube.Get("deployment/dr-web", "{.spec.replicas} {.spec.template.spec.containers[0].image}"));

        // kubectl asks for strict field validation, as on a create; the server refuses a typo.
        var typo = await kube.Run("replace", "-f", kube.Manifest("dr-typo", KubeManifests.Deployment("dr-web", "dr-none", replicas: 3).Replace("nodeSelector:", "nodeSelecter:")));
        Assert.True(typo.ExitCode == 1, typo.ToString());
        Assert.Contains("unknown field \"spec.template.spec.nodeSelecter\"", typo.Error);
        Assert.Equal("1", await kube.Get("deployment/dr-web", "{.spec.replicas}"));

        // Discovery says so: pods and deployments take update (kubectl api-resources -o wide's VERBS).
        var verbs = (await kube.Run("api-resources", "-o", "wide")).Succeeded().Output.Split('\n');
        foreach (var resource in new[] { "pods ", "deployments " })
            Assert.Contains("create,delete,get,list,patch,update,watch", Assert.Single(verbs, l => l.StartsWith(resource, StringComparison.Ordinal)));

        using var elsewhere = await kube.Http.PutAsync("apis/apps/v1/namespaces/default/deployments/dr-other",
            Json("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dr-web"}}"""));
        var status = await Status(elsewhere, HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal("the name of the object (dr-web) does not match the name on the URL (dr-other)", status.GetProperty("message").GetString());
    }
}
