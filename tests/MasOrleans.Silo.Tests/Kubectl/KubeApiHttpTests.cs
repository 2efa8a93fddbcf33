using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// What kubectl reads but does not print in full: Status bodies (kind, reason, code, details.causes), over the same HTTPS
/// and bearer token kubectl uses.
/// </summary>
[Collection(KubeHttpTests.Name)]
public sealed class KubeApiHttpTests(KubectlFixture kube)
{
    [Fact]
    public async Task Errors_are_status_objects_with_the_reason_and_the_invalid_field_as_a_cause()
    {
        var missing = await Status(await kube.Http.GetAsync("api/v1/namespaces/default/pods/http-nope"), HttpStatusCode.NotFound, "NotFound");
        Assert.Equal("pods \"http-nope\" not found", missing.GetProperty("message").GetString());
        Assert.Equal("http-nope", missing.GetProperty("details").GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("http-twice", "http")))).StatusCode);
        var duplicate = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("http-twice", "http"))), HttpStatusCode.Conflict, "AlreadyExists");
        Assert.Equal("pods \"http-twice\" already exists", duplicate.GetProperty("message").GetString());

        var invalid = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("http-bad", "http", "no-such-policy"))),
            HttpStatusCode.UnprocessableEntity, "Invalid");
        var details = invalid.GetProperty("details");
        Assert.Equal("Pod", details.GetProperty("kind").GetString());
        Assert.Equal("http-bad", details.GetProperty("name").GetString());
        var cause = Assert.Single(details.GetProperty("causes").EnumerateArray());
        Assert.Equal("spec.schedulerName", cause.GetProperty("field").GetString());
        Assert.Equal("FieldValueInvalid", cause.GetProperty("reason").GetString());
        Assert.StartsWith("Invalid value: unknown policy 'no-such-policy'", cause.GetProperty("message").GetString());
    }

    /// <summary>
    /// metav1.Status's details is `Details *StatusDetails json:"details,omitempty"` (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go):
    /// a Status whose constructor makes no details leaves the field out. NewBadRequest and NewUnauthorized make none
    /// (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go), nor does the 415 of errUnsupportedMediaType.Status()
    /// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go). Each was "details": null here, and the
    /// refused protobuf body had empty details.
    /// </summary>
    [Fact]
    public async Task A_status_whose_constructor_makes_no_details_leaves_the_field_out()
    {
        async Task NoDetails(HttpRequestMessage request, HttpStatusCode code, string reason)
        {
            using (request)
            using (var response = await kube.Http.SendAsync(request))
            {
                var status = await Status(response, code, reason);
                Assert.False(status.TryGetProperty("details", out var details), $"{request.RequestUri}: details {details}");
            }
        }
        static HttpRequestMessage Create(string mediaType) =>
            new(HttpMethod.Post, "api/v1/namespaces/default/pods") { Content = Json(PodJson("http-no-details", "http"), mediaType) };

        await NoDetails(new HttpRequestMessage(HttpMethod.Get, "api/v1/pods?labelSelector=a%3Db%3Dc"), HttpStatusCode.BadRequest, "BadRequest");
        await NoDetails(Create("text/plain"), HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
        await NoDetails(Create("application/vnd.kubernetes.protobuf"), HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
        // An unknown key is refused, on a read as on a write.
        var outsider = new HttpRequestMessage(HttpMethod.Delete, "api/v1/nodes/http-no-details");
        outsider.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-the-api-key-0000");
        await NoDetails(outsider, HttpStatusCode.Unauthorized, "Unauthorized");
    }

    /// <summary>
    /// A Status naming an object of a group carries the group and the resource apart: apimachinery's NewNotFound,
    /// NewAlreadyExists and NewConflict put qualifiedResource.Group in details.group and qualifiedResource.Resource in
    /// details.kind (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go), and the store's delete answers Success
    /// with the same two (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, finalizeDelete: "Yes we set
    /// Kind field to resource"), and the deleted object's uid. details.kind was "deployments.apps" with no group; a delete's
    /// details had no uid. A core resource has no group.
    /// </summary>
    [Fact]
    public async Task A_status_names_a_resource_of_a_group_by_its_group_and_resource_apart()
    {
        static async Task<string> Details(HttpResponseMessage response, HttpStatusCode code, string reason)
        {
            using (response) return (await Status(response, code, reason)).GetProperty("details").GetRawText();
        }
        static void Same(string expected, string actual) => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), actual);

        const string deployments = "apis/apps/v1/namespaces/default/deployments";
        Same("""{"name":"sd-none","group":"apps","kind":"deployments"}""", await Details(await kube.Http.GetAsync($"{deployments}/sd-none"), HttpStatusCode.NotFound, "NotFound"));
        Same("""{"name":"sd-none","kind":"pods"}""", await Details(await kube.Http.GetAsync("api/v1/namespaces/default/pods/sd-none"), HttpStatusCode.NotFound, "NotFound"));
        Same("""{"name":"sd-none","group":"metrics.k8s.io","kind":"nodemetrics"}""",
            await Details(await kube.Http.GetAsync("apis/metrics.k8s.io/v1beta1/nodes/sd-none"), HttpStatusCode.NotFound, "NotFound"));

        var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"sd-web"},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"sd-web"}},"template":{"metadata":{"labels":{"app":"sd-web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}""";
        using (var created = await kube.Http.PostAsync(deployments, Json(deployment))) Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Same("""{"name":"sd-web","group":"apps","kind":"deployments"}""", await Details(await kube.Http.PostAsync(deployments, Json(deployment)), HttpStatusCode.Conflict, "AlreadyExists"));
        Same("""{"name":"sd-web","group":"apps","kind":"deployments"}""",
            await Details(await StrategicMergePatch(kube.Http, $"{deployments}/sd-web", """{"metadata":{"resourceVersion":"1","annotations":{"a":"b"}}}"""), HttpStatusCode.Conflict, "Conflict"));

        string uid;
        using (var served = await kube.Http.GetAsync($"{deployments}/sd-web"))
        using (var got = JsonDocument.Parse(await served.Content.ReadAsStringAsync()))
            uid = got.RootElement.GetProperty("metadata").GetProperty("uid").GetString()!;
        Assert.NotEmpty(uid);
        using var deleted = await kube.Http.DeleteAsync($"{deployments}/sd-web");
        var body = await deleted.Content.ReadAsStringAsync();
        Assert.True(deleted.StatusCode == HttpStatusCode.OK, body);
        using var success = JsonDocument.Parse(body);
        Assert.Equal("Success", success.RootElement.GetProperty("status").GetString());
        // finalizeDelete names the deleted object's uid too: the one a GET served.
        Same($$"""{"name":"sd-web","group":"apps","kind":"deployments","uid":"{{uid}}"}""", success.RootElement.GetProperty("details").GetRawText());
    }

    /// <summary>
    /// A namespace is a DNS-1123 label (apimachinery pkg/api/validation/generic.go ValidateNamespaceName, i.e.
    /// pkg/util/validation/validation.go IsDNS1123Label), so no object exists in "a.b": reading, changing, evicting
    /// or deleting one is the 404 any missing object gets (it was a 500: the key mapping threw), listing finds
    /// nothing, and creating one is 422 on metadata.namespace (an invalid namespace such as Prod_X was stored).
    /// </summary>
    [Fact]
    public async Task Objects_in_a_namespace_that_cannot_exist_are_not_found_and_cannot_be_created()
    {
        static HttpRequestMessage Send(string method, string path, string? body = null, string type = "application/json") =>
            new(new HttpMethod(method), path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, type) };
        const string pods = "api/v1/namespaces/a.b/pods";
        const string deployments = "apis/apps/v1/namespaces/a.b/deployments";
        var requests = new (HttpRequestMessage Request, string Message)[]
        {
            (Send("GET", $"{pods}/p1"), "pods \"p1\" not found"),
            (Send("DELETE", $"{pods}/p1"), "pods \"p1\" not found"),
            (Send("PATCH", $"{pods}/p1", "{}", "application/merge-patch+json"), "pods \"p1\" not found"),
            (Send("POST", $"{pods}/p1/eviction", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p1"}}"""), "pods \"p1\" not found"),
            (Send("GET", $"{deployments}/d1"), "deployments.apps \"d1\" not found"),
            (Send("DELETE", $"{deployments}/d1"), "deployments.apps \"d1\" not found"),
            (Send("PATCH", $"{deployments}/d1", "{}", "application/merge-patch+json"), "deployments.apps \"d1\" not found"),
            (Send("GET", $"{deployments}/d1/scale"), "deployments.apps \"d1\" not found"),
            (Send("PATCH", $"{deployments}/d1/scale", """{"spec":{"replicas":2}}""", "application/merge-patch+json"), "deployments.apps \"d1\" not found"),
            (Send("PUT", $"{deployments}/d1/scale", """{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"d1"},"spec":{"replicas":2}}"""), "deployments.apps \"d1\" not found"),
        };
        foreach (var (request, message) in requests)
        {
            using (request)
            {
                var status = await Status(await kube.Http.SendAsync(request), HttpStatusCode.NotFound, "NotFound");
                Assert.True(message == status.GetProperty("message").GetString(), $"{request.Method} {request.RequestUri}: {status}");
            }
        }
        var listed = JsonDocument.Parse(await kube.Http.GetStringAsync(pods)).RootElement;
        Assert.Equal(0, listed.GetProperty("items").GetArrayLength());

        foreach (var ns in new[] { "a.b", "Prod_X" })
        {
            var pod = await Status(await kube.Http.PostAsync($"api/v1/namespaces/{ns}/pods", Json(PodJson("ns-pod", "ns"))), HttpStatusCode.UnprocessableEntity, "Invalid");
            Assert.Equal("metadata.namespace", Assert.Single(pod.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
            Assert.StartsWith($"Pod \"ns-pod\" is invalid: metadata.namespace: Invalid value: \"{ns}\": a lowercase RFC 1123 label", pod.GetProperty("message").GetString());
            var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"ns-web"},"spec":{"selector":{"matchLabels":{"app":"w"}},"template":{"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}""";
            var refused = await Status(await kube.Http.PostAsync($"apis/apps/v1/namespaces/{ns}/deployments", Json(deployment)), HttpStatusCode.UnprocessableEntity, "Invalid");
            Assert.StartsWith($"Deployment.apps \"ns-web\" is invalid: metadata.namespace", refused.GetProperty("message").GetString());
        }
        var all = JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/pods")).RootElement.GetProperty("items").EnumerateArray();
        Assert.DoesNotContain(all, p => p.GetProperty("metadata").GetProperty("name").GetString() == "ns-pod");
    }

    /// <summary>
    /// A verb this server does not serve on a path it does serve is 405, and a path it does not serve is 404, each in
    /// the API server's words with empty details (apimachinery pkg/api/errors/errors.go NewGenericServerResponse).
    /// Both were a 404 "not found" naming the path as an object of kind "" (PUT on an existing node among them).
    /// </summary>
    [Theory]
    [InlineData("PUT", "api/v1/nodes/http-put-node", 405)]
    [InlineData("POST", "api/v1/nodes/http-put-node", 405)]
    [InlineData("PUT", "apis/apps/v1/namespaces/default/deployments", 405)]
    [InlineData("DELETE", "api/v1/namespaces/default/pods", 405)]
    [InlineData("DELETE", "api/v1/namespaces/team1", 405)]
    [InlineData("POST", "api/v1/namespaces/default/configmaps", 404)]
    [InlineData("GET", "api/v1/services", 404)]
    [InlineData("GET", "api/v1/namespaces/default/pods/p1/log", 404)]
    [InlineData("GET", "apis/batch/v1/jobs", 404)]
    public async Task Unserved_verbs_are_405_and_unserved_paths_404_as_the_api_server_says(string method, string path, int code)
    {
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"http-put-node"},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        await kube.Http.PostAsync("api/v1/nodes", Json(node));
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Json("{}") };
        var response = await kube.Http.SendAsync(request);
        var status = code == 405
            ? await Status(response, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed")
            : await Status(response, HttpStatusCode.NotFound, "NotFound");
        Assert.Equal(code == 405 ? "the server does not allow this method on the requested resource" : "the server could not find the requested resource",
            status.GetProperty("message").GetString());
        Assert.Empty(status.GetProperty("details").EnumerateObject());
        if (code == 405) Assert.Contains("GET", response.Content.Headers.Allow);
    }
}
