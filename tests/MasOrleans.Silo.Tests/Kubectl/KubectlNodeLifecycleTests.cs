using System.Net;
using System.Text;
using System.Text.Json;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>A node's life as a platform engineer drives it with kubectl: taints, evictions, drain.</summary>
public sealed class KubectlNodeLifecycleTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private async Task<string> Get(string resource, string jsonPath) => (await kube.Run("get", resource, "-o", $"jsonpath={jsonPath}")).Succeeded().Output;

    private static async Task<JsonElement> Status(HttpResponseMessage response, HttpStatusCode code, string reason)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == code, $"{(int)response.StatusCode}: {body}");
        var status = JsonDocument.Parse(body).RootElement;
        Assert.Equal(("Status", reason, (int)code), (status.GetProperty("kind").GetString(), status.GetProperty("reason").GetString(), status.GetProperty("code").GetInt32()));
        return status;
    }

    /// <summary>
    /// The API server refuses an Eviction whose body names another pod than its URL before it looks at either
    /// (pkg/registry/core/pod/storage/eviction.go: "name in URL does not match name in Eviction object", 400). It
    /// evicted the URL's pod.
    /// </summary>
    [Fact]
    public async Task An_eviction_whose_body_names_another_pod_is_a_400_and_evicts_neither()
    {
        (await kube.Run("apply", "-f", kube.Manifest("nl-evict-node", KubeManifests.Node("nl-evict", "nl-evict")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nl-evict-a", KubeManifests.Pod("nl-evict-a", "nl-evict")))).Succeeded();
        (await kube.Run("apply", "-f", kube.Manifest("nl-evict-b", KubeManifests.Pod("nl-evict-b", "nl-evict")))).Succeeded();
        foreach (var pod in new[] { "nl-evict-a", "nl-evict-b" }) await kube.WaitFor($"pod/{pod}", "{.status.phase}", p => p == "Running");

        foreach (var named in new[] { """{"name":"nl-evict-b"}""", "{}" })
        {
            var eviction = $$"""{"kind":"Eviction","apiVersion":"policy/v1","metadata":{{named}}}""";
            var refused = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods/nl-evict-a/eviction",
                new StringContent(eviction, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "BadRequest");
            Assert.Equal("name in URL does not match name in Eviction object", refused.GetProperty("message").GetString());
        }

        await Task.Delay(500);
        Assert.Equal("Running nl-evict", await Get("pod/nl-evict-a", "{.status.phase} {.spec.nodeName}"));
        Assert.Equal("Running nl-evict", await Get("pod/nl-evict-b", "{.status.phase} {.spec.nodeName}"));
    }
}
