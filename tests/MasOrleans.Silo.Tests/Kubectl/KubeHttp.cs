using System.Net;
using System.Text;
using System.Text.Json;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>What the kubectl tests send to the Kubernetes surface over HTTP, and the Status it refuses a request with.</summary>
internal static class KubeHttp
{
    public static StringContent Json(string body, string type = "application/json") => new(body, Encoding.UTF8, type);

    /// <summary>A strategic merge patch, as kubectl patch sends one by default.</summary>
    public static async Task<HttpResponseMessage> StrategicMergePatch(HttpClient http, string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = new StringContent(body, Encoding.UTF8, "application/strategic-merge-patch+json") };
        return await http.SendAsync(request);
    }

    /// <summary>A pod of 1 cpu and 1Gi labelled app=<paramref name="app"/>, as JSON.</summary>
    public static string PodJson(string name, string app, string scheduler = "default-scheduler") => JsonSerializer.Serialize(new
    {
        apiVersion = "v1",
        kind = "Pod",
        metadata = new { name, labels = new Dictionary<string, string> { ["app"] = app } },
        spec = new
        {
            schedulerName = scheduler,
            containers = new[] { new { name = "main", image = "busybox:1.36", resources = new { requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" } } } },
        },
    });

    /// <summary>
    /// The response's body, checked to be a failure Status of this code and reason (apimachinery metav1.Status: kind
    /// Status, status Failure, the reason, the HTTP code again as code).
    /// </summary>
    public static async Task<JsonElement> Status(HttpResponseMessage response, HttpStatusCode code, string reason)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == code, $"{(int)response.StatusCode}: {body}");
        var status = JsonDocument.Parse(body).RootElement;
        Assert.Equal("Status", status.GetProperty("kind").GetString());
        Assert.Equal("Failure", status.GetProperty("status").GetString());
        Assert.Equal(reason, status.GetProperty("reason").GetString());
        Assert.Equal((int)code, status.GetProperty("code").GetInt32());
        return status;
    }
}

/// <summary>
/// The Kubernetes surface's HTTP tests (Status bodies, patches, request rules): one class before it was split by idea,
/// so one silo (<see cref="KubectlFixture"/>) and one test at a time, as then, not three silos at once on a loaded machine.
/// </summary>
[CollectionDefinition(Name)]
public sealed class KubeHttpTests : ICollectionFixture<KubectlFixture>
{
    public const string Name = "kube http";
}
