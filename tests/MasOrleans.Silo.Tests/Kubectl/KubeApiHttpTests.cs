using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// What kubectl reads but does not print in full: Status bodies (kind, reason, code, details.causes), over the same HTTPS
/// and bearer token kubectl uses.
/// </summary>
public sealed class KubeApiHttpTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
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
            await Details(await Patch($"{deployments}/sd-web", """{"metadata":{"resourceVersion":"1","annotations":{"a":"b"}}}"""), HttpStatusCode.Conflict, "Conflict"));

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

    private async Task<HttpResponseMessage> Patch(string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = new StringContent(body, Encoding.UTF8, "application/strategic-merge-patch+json") };
        return await kube.Http.SendAsync(request);
    }

    /// <summary>
    /// A patch whose result does not decode is 422 Invalid on the field "patch", as the API server's patch handler
    /// answers (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go, applyPatchToObject); a "$patch" directive
    /// other than replace or delete is strategicpatch's ErrBadPatchType
    /// (staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go, handleDirectiveInMergeMap), a malformed patch
    /// and so a 400. Neither is a 500.
    /// </summary>
    [Theory]
    [InlineData("""{"spec":{"containers":[{"name":5}]}}""", HttpStatusCode.UnprocessableEntity, "Invalid")]
    [InlineData("""{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":5}}}""", HttpStatusCode.UnprocessableEntity, "Invalid")]
    [InlineData("""{"spec":{"containers":[{"name":"main","$patch":5}]}}""", HttpStatusCode.BadRequest, "BadRequest")]
    [InlineData("""{"$patch":5}""", HttpStatusCode.BadRequest, "BadRequest")]
    [InlineData("""{"spec":{"$patch":"merge"}}""", HttpStatusCode.BadRequest, "BadRequest")]
    public async Task Patch_with_a_value_of_the_wrong_type_is_a_status_not_a_500(string patch, HttpStatusCode code, string reason)
    {
        var created = await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("http-patched", "patched")));
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{(int)created.StatusCode}");
        var status = await Status(await Patch("api/v1/namespaces/default/pods/http-patched", patch), code, reason);
        if (code == HttpStatusCode.UnprocessableEntity)
            Assert.Equal("patch", Assert.Single(status.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
        else Assert.StartsWith("unknown patch type: ", status.GetProperty("message").GetString());
    }

    /// <summary>
    /// A patched object that does not decode names neither its kind nor itself: the patch handler answers
    /// errors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{field.Invalid(field.NewPath("patch"), ...)}) whatever was
    /// patched (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go, jsonPatcher.applyPatchToCurrentObject and
    /// applyPatchToObject), so NewInvalid's "%s %q is invalid: %v" prints an empty kind and "" for the name, and
    /// StatusDetails' group, kind and name, all omitempty, are absent
    /// (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go, NewInvalid). It named "Deployment", "Scale", "Pod" here.
    /// The value is quoted (field/errors.go, ErrorBody: a string as %q) and is what did not decode: a strategic merge
    /// patch's patch as %+v prints its map (patch.go, applyPatchToObject: fmt.Sprintf("%+v", patchMap)), a merge patch's
    /// patched object as JSON (jsonPatcher.applyPatchToCurrentObject: string(patchedObjJS)); it named neither.
    /// </summary>
    [Fact]
    public async Task Patches_of_nodes_and_deployments_that_do_not_decode_are_422()
    {
        async Task Undecodable(string path, string patch, string? printed = null)
        {
            var status = await Status(await Patch(path, patch), HttpStatusCode.UnprocessableEntity, "Invalid");
            Assert.StartsWith($" \"\" is invalid: patch: Invalid value: {printed ?? ""}", status.GetProperty("message").GetString());
            var details = status.GetProperty("details");
            Assert.Equal(["causes"], details.EnumerateObject().Select(p => p.Name));
            Assert.Equal("patch", Assert.Single(details.GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
        }

        var created = await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("http-patched", "patched")));
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{(int)created.StatusCode}");
        await Undecodable("api/v1/namespaces/default/pods/http-patched", """{"spec":{"containers":[{"name":5}]}}""", "\"map[spec:map[containers:[map[name:5]]]]\": ");
        using (var request = new HttpRequestMessage(HttpMethod.Patch, "api/v1/namespaces/default/pods/http-patched")
        {
            Content = new StringContent("""{"metadata":{"annotations":{"n":5,"e":"café"}}}""", Encoding.UTF8, "application/merge-patch+json"),
        })
        {
            var merged = await Status(await kube.Http.SendAsync(request), HttpStatusCode.UnprocessableEntity, "Invalid");
            var message = merged.GetProperty("message").GetString()!;
            Assert.StartsWith(" \"\" is invalid: patch: Invalid value: \"{\\\"", message);
            // The pod's other annotations (another test's) may come first.
            Assert.Contains("\\\"annotations\\\":{", message);
            Assert.Contains("\\\"n\\\":5", message);
            // json.Marshal writes UTF-8 as it is, and %q keeps a printable rune: é, not \\u00E9.
            Assert.Contains("\\\"e\\\":\\\"café\\\"", message);
            Assert.Contains("\\\"name\\\":\\\"http-patched\\\"", message);
        }

        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"http-patched-node"},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node))).StatusCode);
        await Undecodable("api/v1/nodes/http-patched-node", """{"spec":{"taints":[{"key":5,"effect":"NoSchedule"}]}}""");

        var deployment = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"http-patched-web"},"spec":{"replicas":0,
             "selector":{"matchLabels":{"app":"http-patched-web"}},"template":{"metadata":{"labels":{"app":"http-patched-web"}},
             "spec":{"containers":[{"name":"main","image":"nginx:1.27","resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]}}}}
            """;
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("apis/apps/v1/namespaces/default/deployments", Json(deployment))).StatusCode);
        await Undecodable("apis/apps/v1/namespaces/default/deployments/http-patched-web", """{"spec":{"template":{"spec":{"containers":[{"name":5}]}}}}""");
        await Undecodable("apis/apps/v1/namespaces/default/deployments/http-patched-web/scale", """{"spec":{"replicas":"many"}}""", "\"map[spec:map[replicas:many]]\": ");
    }

    /// <summary>
    /// A deployment's creationTimestamp was read from its workload's "Created" event, and a workload keeps its last 32
    /// events: one scaled up and down some 16 times (kubectl scale, or the autoscaler over a day) lost its creation time,
    /// so kubectl showed its AGE as &lt;unknown&gt;. It is kept with the workload now, and stays what it was.
    /// </summary>
    [Fact]
    public async Task A_deployments_creation_time_outlives_its_events()
    {
        var deployment = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"http-aged-web"},"spec":{"replicas":0,
             "selector":{"matchLabels":{"app":"http-aged-web"}},"template":{"metadata":{"labels":{"app":"http-aged-web"}},
             "spec":{"nodeSelector":{"test":"http-aged-none"},"containers":[{"name":"main","image":"nginx:1.27","resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]}}}}
            """;
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("apis/apps/v1/namespaces/default/deployments", Json(deployment))).StatusCode);
        var created = await CreationTimestamp();
        Assert.NotNull(created);

        // The default namespace's deployment is the REST API's workload of the same name. Up to 17 replicas and back to 0:
        // 34 scale events, each of another message, more than the 32 a workload keeps. (Since events are correlated as
        // client-go's recorder does, repeats counted on the one listed and similar ones combined, scaling alone no longer
        // pushes the Created event out; the creation time must hold either way.)
        foreach (var replicas in Enumerable.Range(1, 17).Concat(Enumerable.Range(0, 17).Reverse()))
        {
            using var scaled = await Patch("apis/apps/v1/namespaces/default/deployments/http-aged-web/scale", $"{{\"spec\":{{\"replicas\":{replicas}}}}}");
            Assert.Equal(HttpStatusCode.OK, scaled.StatusCode);
        }
        var events = (await kube.Http.GetJson("../api/v1/workloads/http-aged-web/events")).GetProperty("items").EnumerateArray().ToList();
        Assert.InRange(events.Count, 1, ObjectEvents.MaxEvents);
        Assert.Equal(created, await CreationTimestamp());

        async Task<string?> CreationTimestamp()
        {
            using var response = await kube.Http.GetAsync("apis/apps/v1/namespaces/default/deployments/http-aged-web");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(response.IsSuccessStatusCode, body.ToString());
            return body.GetProperty("metadata").TryGetProperty("creationTimestamp", out var at) ? at.GetString() : null;
        }
    }

    /// <summary>
    /// KubernetesClient's serializer turns a quantity into an exact fraction: "1e100000" or -1E+300 kept a core busy for
    /// minutes (the request timed out, the silo would not stop). Such quantities are refused before it, on every body.
    /// </summary>
    [Theory]
    [InlineData("\"1e100000\"")]
    [InlineData("-1E+300")]
    public async Task A_quantity_no_object_can_have_is_refused_at_once_for_pods_and_nodes(string quantity)
    {
        using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"oversized"},"spec":{"containers":[{"name":"main","image":"busybox","resources":{"requests":{"memory":Q}}}]}}""";
        var refused = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod.Replace("Q", quantity)), quick.Token), HttpStatusCode.BadRequest, "BadRequest");
        Assert.Contains("spec.containers[0].resources.requests.memory: quantity", refused.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync("api/v1/namespaces/default/pods/oversized", quick.Token)).StatusCode);

        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"oversized"},"status":{"capacity":{"cpu":Q}}}""";
        await Status(await kube.Http.PostAsync("api/v1/nodes", Json(node.Replace("Q", quantity)), quick.Token), HttpStatusCode.BadRequest, "BadRequest");

        // A patch is merged onto the stored node and read like a body, so it is refused the same way.
        var patchable = $"oversized-{(quantity.StartsWith('-') ? "negative" : "huge")}";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node.Replace("oversized", patchable).Replace("Q", "\"4\"")), quick.Token)).StatusCode);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"api/v1/nodes/{patchable}")
        {
            Content = new StringContent("""{"status":{"capacity":{"cpu":Q}}}""".Replace("Q", quantity), Encoding.UTF8, "application/merge-patch+json"),
        };
        await Status(await kube.Http.SendAsync(patch, quick.Token), HttpStatusCode.BadRequest, "BadRequest");
    }

    /// <summary>
    /// A decimal holds these (up to 7.9e28) but cores are stored in milli: scaling them overflowed and the request was a
    /// 500. A quantity the server cannot hold is the object's mistake: 422 naming the field, and over the maximum as REST
    /// says (a well-formed "1e16" was "not a valid quantity for cpu" here while REST said "exceeds the maximum").
    /// </summary>
    [Theory]
    [InlineData("1e28")]
    [InlineData("8e25")]
    [InlineData("1e16")]
    public async Task A_cpu_too_large_to_store_is_422_for_pods_and_nodes(string cpu)
    {
        var pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge-cpu"},"spec":{"containers":[{"name":"main","image":"busybox","resources":{"requests":{"cpu":"CPU"}}}]}}""".Replace("CPU", cpu);
        var invalidPod = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod)), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("spec.containers[].resources.requests", Assert.Single(invalidPod.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
        Assert.Matches("cpu quantity '[^']+' exceeds the maximum", invalidPod.GetProperty("message").GetString());

        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"huge-cpu"},"status":{"capacity":{"cpu":"CPU","memory":"8Gi"}}}""".Replace("CPU", cpu);
        var invalidNode = await Status(await kube.Http.PostAsync("api/v1/nodes", Json(node)), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("status.capacity", Assert.Single(invalidNode.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync("api/v1/nodes/huge-cpu")).StatusCode);
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
    /// The API server parses ?labelSelector with apimachinery's pkg/labels/selector.go and answers 400 with the parser's
    /// error; these were 200 here ("!app=web" listed every pod, the others none).
    /// </summary>
    [Theory]
    [InlineData("!app=web", "found '=', expected: ',' or 'end of string'")]
    [InlineData("a=b=c", "found '=', expected: ',' or 'end of string'")]
    [InlineData("app=we b", "found 'b', expected: ',' or 'end of string'")]
    [InlineData("a b=c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData(",,,", "found ',', expected: !, identifier, or 'end of string'")]
    public async Task A_malformed_label_selector_is_a_400_for_pods_nodes_and_deployments(string selector, string message)
    {
        foreach (var path in new[] { "api/v1/pods", "api/v1/namespaces/default/pods", "api/v1/nodes", "apis/apps/v1/deployments" })
        {
            var refused = await Status(await kube.Http.GetAsync($"{path}?labelSelector={Uri.EscapeDataString(selector)}"), HttpStatusCode.BadRequest, "BadRequest");
            Assert.Equal(message, refused.GetProperty("message").GetString());
        }
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

    /// <summary>
    /// A pod runs at least one container: the API server refuses one without (pkg/apis/core/validation/validation.go,
    /// validateContainers: "spec.containers: Required value"); such pods were created here.
    /// </summary>
    [Theory]
    [InlineData("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"no-containers"},"spec":{}}""")]
    [InlineData("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"no-containers"},"spec":{"containers":[]}}""")]
    [InlineData("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"no-containers"}}""")]
    public async Task A_pod_without_containers_is_422_containers_required(string pod)
    {
        var refused = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod)), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("Pod \"no-containers\" is invalid: spec.containers: Required value", refused.GetProperty("message").GetString());
        var cause = Assert.Single(refused.GetProperty("details").GetProperty("causes").EnumerateArray());
        Assert.Equal(("FieldValueRequired", "Required value", "spec.containers"),
            (cause.GetProperty("reason").GetString(), cause.GetProperty("message").GetString(), cause.GetProperty("field").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync("api/v1/namespaces/default/pods/no-containers")).StatusCode);
    }

    /// <summary>
    /// metadata.generateName alone names the pod as the API server does (apiserver pkg/storage/names SimpleNameGenerator:
    /// the prefix and five random characters of apimachinery pkg/util/rand's alphabet); it was a 422 "pod name is required".
    /// </summary>
    [Fact]
    public async Task A_pod_with_only_generate_name_gets_a_generated_name()
    {
        var pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"gen-","labels":{"app":"generated"}},"spec":{"containers":[{"name":"main","image":"busybox"}]}}""";
        var names = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var response = await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
            var name = JsonDocument.Parse(body).RootElement.GetProperty("metadata").GetProperty("name").GetString()!;
            Assert.Matches("^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$", name);
            Assert.Equal(HttpStatusCode.OK, (await kube.Http.GetAsync($"api/v1/namespaces/default/pods/{name}")).StatusCode);
            names.Add(name);
        }
        Assert.NotEqual(names[0], names[1]);
    }

    /// <summary>
    /// A Deployment's bad pod template is the Deployment's error, at the template's field (it named a pod "c28-xxxxx"). The
    /// message names the kind qualified by its group and the details carry them apart, as apimachinery's NewInvalid makes
    /// them from the GroupKind the registry passes (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go, NewInvalid:
    /// "%s %q is invalid" of qualifiedKind.String(), Details.Group and Details.Kind; staging/src/k8s.io/apiserver/pkg/registry/rest/create.go,
    /// BeforeCreate: NewInvalid(kind.GroupKind(), ...)); kubectl prints details.kind alone ("The Deployment "c28" is invalid").
    /// </summary>
    [Fact]
    public async Task A_deployment_with_a_bad_template_is_named_in_its_422()
    {
        var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"c28"},"spec":{"selector":{"matchLabels":{"app":"c28"}},"template":{"metadata":{"labels":{"app":"c28"}},"spec":{"schedulerName":"no-such-policy","containers":[{"name":"c","image":"nginx"}]}}}}""";
        var refused = await Status(await kube.Http.PostAsync("apis/apps/v1/namespaces/default/deployments", Json(deployment)), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.StartsWith("Deployment.apps \"c28\" is invalid: spec.template.spec.schedulerName: Invalid value: unknown policy 'no-such-policy'", refused.GetProperty("message").GetString());
        var details = refused.GetProperty("details");
        Assert.Equal(("Deployment", "apps", "c28"), (details.GetProperty("kind").GetString(), details.GetProperty("group").GetString(), details.GetProperty("name").GetString()));
        Assert.Equal("spec.template.spec.schedulerName", Assert.Single(details.GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());

        var empty = await Status(await kube.Http.PostAsync("apis/apps/v1/namespaces/default/deployments",
            Json(deployment.Replace("\"schedulerName\":\"no-such-policy\",\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]", "\"containers\":[]"))), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("Deployment.apps \"c28\" is invalid: spec.template.spec.containers: Required value", empty.GetProperty("message").GetString());
    }
}
