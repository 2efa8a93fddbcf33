using System.Net;
using System.Text;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// What kubectl reads but does not print in full: Status bodies (kind, reason, code, details.causes) and a watch
/// resumed from a resourceVersion, over the same HTTPS and bearer token kubectl uses.
/// </summary>
public sealed class KubeApiHttpTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    private static string Pod(string name, string app, string scheduler = "default-scheduler") => JsonSerializer.Serialize(new
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

    [Fact]
    public async Task Errors_are_status_objects_with_the_reason_and_the_invalid_field_as_a_cause()
    {
        var missing = await Status(await kube.Http.GetAsync("api/v1/namespaces/default/pods/http-nope"), HttpStatusCode.NotFound, "NotFound");
        Assert.Equal("pods \"http-nope\" not found", missing.GetProperty("message").GetString());
        Assert.Equal("http-nope", missing.GetProperty("details").GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(Pod("http-twice", "http")))).StatusCode);
        var duplicate = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(Pod("http-twice", "http"))), HttpStatusCode.Conflict, "AlreadyExists");
        Assert.Equal("pods \"http-twice\" already exists", duplicate.GetProperty("message").GetString());

        var invalid = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(Pod("http-bad", "http", "no-such-policy"))),
            HttpStatusCode.UnprocessableEntity, "Invalid");
        var details = invalid.GetProperty("details");
        Assert.Equal("Pod", details.GetProperty("kind").GetString());
        Assert.Equal("http-bad", details.GetProperty("name").GetString());
        var cause = Assert.Single(details.GetProperty("causes").EnumerateArray());
        Assert.Equal("spec.schedulerName", cause.GetProperty("field").GetString());
        Assert.Equal("FieldValueInvalid", cause.GetProperty("reason").GetString());
        Assert.StartsWith("Invalid value: unknown policy 'no-such-policy'", cause.GetProperty("message").GetString());
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
        var created = await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(Pod("http-patched", "patched")));
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{(int)created.StatusCode}");
        var status = await Status(await Patch("api/v1/namespaces/default/pods/http-patched", patch), code, reason);
        if (code == HttpStatusCode.UnprocessableEntity)
            Assert.Equal("patch", Assert.Single(status.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
        else Assert.StartsWith("unknown patch type: ", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Patches_of_nodes_and_deployments_that_do_not_decode_are_422()
    {
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"http-patched-node"},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node))).StatusCode);
        await Status(await Patch("api/v1/nodes/http-patched-node", """{"spec":{"taints":[{"key":5,"effect":"NoSchedule"}]}}"""), HttpStatusCode.UnprocessableEntity, "Invalid");

        var deployment = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"http-patched-web"},"spec":{"replicas":0,
             "selector":{"matchLabels":{"app":"http-patched-web"}},"template":{"metadata":{"labels":{"app":"http-patched-web"}},
             "spec":{"containers":[{"name":"main","image":"nginx:1.27","resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]}}}}
            """;
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("apis/apps/v1/namespaces/default/deployments", Json(deployment))).StatusCode);
        await Status(await Patch("apis/apps/v1/namespaces/default/deployments/http-patched-web", """{"spec":{"template":{"spec":{"containers":[{"name":5}]}}}}"""),
            HttpStatusCode.UnprocessableEntity, "Invalid");
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

        // The default namespace's deployment is the REST API's workload of the same name.
        for (var i = 0; i < 32; i++)
        {
            using var scaled = await Patch("apis/apps/v1/namespaces/default/deployments/http-aged-web/scale", $"{{\"spec\":{{\"replicas\":{(i + 1) % 2}}}}}");
            Assert.Equal(HttpStatusCode.OK, scaled.StatusCode);
        }
        var events = (await kube.Http.GetJson("../api/v1/workloads/http-aged-web/events")).GetProperty("items").EnumerateArray();
        Assert.DoesNotContain(events, e => e.GetProperty("reason").GetString() == "Created");
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
    /// 500. A quantity the server cannot hold is the object's mistake: 422 naming the field.
    /// </summary>
    [Theory]
    [InlineData("1e28")]
    [InlineData("8e25")]
    public async Task A_cpu_too_large_to_store_is_422_for_pods_and_nodes(string cpu)
    {
        var pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge-cpu"},"spec":{"containers":[{"name":"main","image":"busybox","resources":{"requests":{"cpu":"CPU"}}}]}}""".Replace("CPU", cpu);
        var invalidPod = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod)), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("spec.containers[].resources.requests", Assert.Single(invalidPod.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
        Assert.Contains("not a valid quantity for cpu", invalidPod.GetProperty("message").GetString());

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
            var pod = await Status(await kube.Http.PostAsync($"api/v1/namespaces/{ns}/pods", Json(Pod("ns-pod", "ns"))), HttpStatusCode.UnprocessableEntity, "Invalid");
            Assert.Equal("metadata.namespace", Assert.Single(pod.GetProperty("details").GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());
            Assert.StartsWith($"Pod \"ns-pod\" is invalid: metadata.namespace: Invalid value: \"{ns}\": a lowercase RFC 1123 label", pod.GetProperty("message").GetString());
            var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"ns-web"},"spec":{"selector":{"matchLabels":{"app":"w"}},"template":{"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}""";
            var refused = await Status(await kube.Http.PostAsync($"apis/apps/v1/namespaces/{ns}/deployments", Json(deployment)), HttpStatusCode.UnprocessableEntity, "Invalid");
            Assert.StartsWith($"Deployment \"ns-web\" is invalid: metadata.namespace", refused.GetProperty("message").GetString());
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
    [InlineData("PUT", "apis/apps/v1/namespaces/default/deployments/web", 405)]
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

    /// <summary>A Deployment's bad pod template is the Deployment's error, at the template's field (it named a pod "c28-xxxxx").</summary>
    [Fact]
    public async Task A_deployment_with_a_bad_template_is_named_in_its_422()
    {
        var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"c28"},"spec":{"selector":{"matchLabels":{"app":"c28"}},"template":{"metadata":{"labels":{"app":"c28"}},"spec":{"schedulerName":"no-such-policy","containers":[{"name":"c","image":"nginx"}]}}}}""";
        var refused = await Status(await kube.Http.PostAsync("apis/apps/v1/namespaces/default/deployments", Json(deployment)), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.StartsWith("Deployment \"c28\" is invalid: spec.template.spec.schedulerName: Invalid value: unknown policy 'no-such-policy'", refused.GetProperty("message").GetString());
        var details = refused.GetProperty("details");
        Assert.Equal(("Deployment", "c28"), (details.GetProperty("kind").GetString(), details.GetProperty("name").GetString()));
        Assert.Equal("spec.template.spec.schedulerName", Assert.Single(details.GetProperty("causes").EnumerateArray()).GetProperty("field").GetString());

        var empty = await Status(await kube.Http.PostAsync("apis/apps/v1/namespaces/default/deployments",
            Json(deployment.Replace("\"schedulerName\":\"no-such-policy\",\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]", "\"containers\":[]"))), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal("Deployment \"c28\" is invalid: spec.template.spec.containers: Required value", empty.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Watch_from_a_lists_resource_version_sends_only_later_changes_and_an_expired_one_is_410()
    {
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(Pod("rv-before", "rv")))).StatusCode);
        var list = JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/namespaces/default/pods?labelSelector=app%3Drv")).RootElement;
        Assert.Equal(["rv-before"], list.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("metadata").GetProperty("name").GetString()));
        var listed = long.Parse(list.GetProperty("metadata").GetProperty("resourceVersion").GetString()!);

        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(Pod("rv-after", "rv")))).StatusCode);
        // The server ends the stream after timeoutSeconds, as the API server does; every line is one event.
        var stream = await kube.Http.GetStringAsync($"api/v1/namespaces/default/pods?labelSelector=app%3Drv&watch=true&resourceVersion={listed}&timeoutSeconds=3");
        var events = stream.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var named = events.Select(e => (Type: e.GetProperty("type").GetString(), Name: e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString(),
            Version: long.Parse(e.GetProperty("object").GetProperty("metadata").GetProperty("resourceVersion").GetString()!))).ToList();
        Assert.True(named.Count > 0, "no events after the list's resourceVersion");
        Assert.Equal(("ADDED", "rv-after"), (named[0].Type, named[0].Name));
        Assert.DoesNotContain(named, e => e.Name == "rv-before" && e.Type == "ADDED");
        Assert.All(named, e => Assert.True(e.Version > listed, $"{e.Type} {e.Name} at {e.Version} is not after {listed}"));
        Assert.Equal(named.Select(e => e.Version).Order(), named.Select(e => e.Version));

        // A version older than the silo's history (its counter starts from the clock) is gone; kubectl lists again.
        var expired = await Status(await kube.Http.GetAsync("api/v1/namespaces/default/pods?watch=true&resourceVersion=1"), HttpStatusCode.Gone, "Expired");
        Assert.Equal("too old resource version: 1", expired.GetProperty("message").GetString());
    }

    private async Task<List<(string Type, string Name, JsonElement Object)>> Watch(string path, long from)
    {
        var separator = path.Contains('?') ? '&' : '?';
        var stream = await kube.Http.GetStringAsync($"{path}{separator}watch=true&resourceVersion={from}&timeoutSeconds=2");
        return stream.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString()!, e.GetProperty("object")))
            .ToList();
    }

    private static string Version(JsonElement list) => list.GetProperty("metadata").GetProperty("resourceVersion").GetString()!;

    /// <summary>
    /// A watch with a selector sees objects enter and leave it, as the API server's watch cache shows them
    /// (apiserver pkg/storage/cacher/cache_watcher.go, convertToWatchEvent): a Pending pod becoming Running is DELETED
    /// for a status.phase=Pending watch (with its last Pending state) and ADDED for a status.phase=Running one; a node
    /// losing the selected label is DELETED. Only the new state was tested before: no DELETED, and a MODIFIED for an
    /// object the Running watch never saw.
    /// </summary>
    [Fact]
    public async Task A_watch_with_a_selector_sees_objects_enter_and_leave_its_selection()
    {
        var from = long.Parse(Version(JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/pods")).RootElement));
        var pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sel-moves"},"spec":{"nodeSelector":{"test":"sel-watch"},"containers":[{"name":"main","image":"busybox","resources":{"requests":{"cpu":"1"}}}]}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod))).StatusCode);
        const string mine = "api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dsel-moves";
        // Lists are looks the cache records: the pod is seen Pending (no node has its label yet), then Running.
        Assert.Equal("Pending", JsonDocument.Parse(await kube.Http.GetStringAsync(mine)).RootElement.GetProperty("items")[0].GetProperty("status").GetProperty("phase").GetString());
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"sel-watch-node","labels":{"test":"sel-watch","zone":"a"}},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node))).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (JsonDocument.Parse(await kube.Http.GetStringAsync(mine)).RootElement.GetProperty("items")[0].GetProperty("status").GetProperty("phase").GetString() != "Running")
        {
            Assert.True(DateTime.UtcNow < deadline, "sel-moves never ran");
            await Task.Delay(200);
        }

        var pending = (await Watch("api/v1/pods?fieldSelector=status.phase%3DPending", from)).Where(e => e.Name == "sel-moves").ToList();
        Assert.True(pending.Count >= 2, string.Join(", ", pending.Select(e => e.Type)));
        Assert.Equal("ADDED", pending[0].Type);
        Assert.All(pending.Skip(1).SkipLast(1), e => Assert.Equal("MODIFIED", e.Type));
        Assert.Equal("DELETED", pending[^1].Type);
        Assert.Equal("Pending", pending[^1].Object.GetProperty("status").GetProperty("phase").GetString());
        var running = (await Watch("api/v1/pods?fieldSelector=status.phase%3DRunning", from)).Where(e => e.Name == "sel-moves").ToList();
        Assert.Equal("ADDED", Assert.Single(running).Type);
        Assert.Equal("Running", running[0].Object.GetProperty("status").GetProperty("phase").GetString());
        // One change, seen from both sides: the DELETED carries the transition's resourceVersion, not its old state's.
        Assert.Equal(running[0].Object.GetProperty("metadata").GetProperty("resourceVersion").GetString(),
            pending[^1].Object.GetProperty("metadata").GetProperty("resourceVersion").GetString());

        var beforePatch = long.Parse(Version(JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/nodes")).RootElement));
        using (var patch = new HttpRequestMessage(HttpMethod.Patch, "api/v1/nodes/sel-watch-node")
        {
            Content = new StringContent("""{"metadata":{"labels":{"zone":null}}}""", Encoding.UTF8, "application/merge-patch+json"),
        })
            Assert.Equal(HttpStatusCode.OK, (await kube.Http.SendAsync(patch)).StatusCode);
        await kube.Http.GetStringAsync("api/v1/nodes");
        var zoneA = (await Watch("api/v1/nodes?labelSelector=zone%3Da", beforePatch)).Where(e => e.Name == "sel-watch-node").ToList();
        var left = Assert.Single(zoneA);
        Assert.Equal("DELETED", left.Type);
        Assert.Equal("a", left.Object.GetProperty("metadata").GetProperty("labels").GetProperty("zone").GetString());
        Assert.True(long.Parse(left.Object.GetProperty("metadata").GetProperty("resourceVersion").GetString()!) > beforePatch);
    }

    /// <summary>
    /// A watch from a resourceVersion this silo has not reached (another silo's: each counts from its own start) is
    /// answered as the API server's watch cache answers it (apiserver pkg/storage/errors.go
    /// NewTooLargeResourceVersionError): 504 Timeout with cause ResourceVersionTooLarge, which makes client-go list
    /// again. It was a 200 stream that silently left out every change up to that version.
    /// </summary>
    [Fact]
    public async Task A_watch_from_a_resource_version_ahead_of_the_server_is_a_too_large_resource_version_timeout()
    {
        var current = long.Parse(Version(JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/pods")).RootElement));
        var ahead = current + 1_000_000;
        foreach (var path in new[] { "api/v1/pods", "api/v1/namespaces/default/pods", "api/v1/nodes" })
        {
            var status = await Status(await kube.Http.GetAsync($"{path}?watch=true&resourceVersion={ahead}&timeoutSeconds=2"), HttpStatusCode.GatewayTimeout, "Timeout");
            Assert.StartsWith($"Timeout: Too large resource version: {ahead}, current: ", status.GetProperty("message").GetString());
            var details = status.GetProperty("details");
            Assert.Equal("ResourceVersionTooLarge", Assert.Single(details.GetProperty("causes").EnumerateArray()).GetProperty("reason").GetString());
            Assert.Equal(1, details.GetProperty("retryAfterSeconds").GetInt32());
        }
        // The version the server is at is still one to watch from.
        Assert.Equal(HttpStatusCode.OK, (await kube.Http.GetAsync($"api/v1/pods?watch=true&resourceVersion={current}&timeoutSeconds=1")).StatusCode);
    }

    [Fact]
    public async Task Node_watch_as_a_table_sends_the_node_created_after_the_list()
    {
        var list = JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/nodes")).RootElement;
        var listed = list.GetProperty("metadata").GetProperty("resourceVersion").GetString();
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"http-watched-node"},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node))).StatusCode);

        // kubectl get nodes -w asks for rows of a Table in every event.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/nodes?watch=true&resourceVersion={listed}&timeoutSeconds=3");
        request.Headers.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        var stream = await (await kube.Http.SendAsync(request)).Content.ReadAsStringAsync();
        var first = JsonDocument.Parse(stream.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]).RootElement;
        Assert.Equal("ADDED", first.GetProperty("type").GetString());
        var table = first.GetProperty("object");
        Assert.Equal("Table", table.GetProperty("kind").GetString());
        Assert.Equal(["Name", "Status", "Roles", "Age", "Version"], table.GetProperty("columnDefinitions").EnumerateArray().Take(5).Select(c => c.GetProperty("name").GetString()));
        var cells = Assert.Single(table.GetProperty("rows").EnumerateArray()).GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(("http-watched-node", "Ready"), (cells[0].GetString(), cells[1].GetString()));
    }
}
