using System.Net;
using System.Text;
using System.Text.Json;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// Patches over the same HTTPS and bearer token kubectl uses: one whose result does not decode is a Status, never a
/// 500, and many in a row keep what they do not name (a deployment's creation time).
/// </summary>
[Collection(KubeHttpTests.Name)]
public sealed class KubePatchHttpTests(KubectlFixture kube)
{
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
        var status = await Status(await StrategicMergePatch(kube.Http, "api/v1/namespaces/default/pods/http-patched", patch), code, reason);
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
            var status = await Status(await StrategicMergePatch(kube.Http, path, patch), HttpStatusCode.UnprocessableEntity, "Invalid");
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
            using var scaled = await StrategicMergePatch(kube.Http, "apis/apps/v1/namespaces/default/deployments/http-aged-web/scale", $"{{\"spec\":{{\"replicas\":{replicas}}}}}");
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
}
