using System.Net;
using System.Text;
using System.Text.Json;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// What a request must hold, over the same HTTPS and bearer token kubectl uses: quantities the server can store, a
/// well-formed label selector, a pod's containers and name, a deployment's valid template.
/// </summary>
[Collection(KubeHttpTests.Name)]
public sealed class KubeRequestRulesHttpTests(KubectlFixture kube)
{
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
    /// A port (an IntOrString) that is true or an object made KubernetesClient's converter throw NotSupportedException,
    /// which the body reader let through: a 500. It is a field of the wrong shape, said as any other (KubeJson.Describe).
    /// </summary>
    [Fact]
    public async Task A_port_that_is_neither_string_nor_number_is_a_400_naming_it()
    {
        var pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"true-port"},"spec":{"containers":[{"name":"main","image":"busybox","readinessProbe":{"httpGet":{"port":true}}}]}}""";
        var refused = await Status(await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod)), HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal("the request body is not a valid Pod: spec.containers[0].readinessProbe.httpGet.port: cannot be read as a string or a number (it is true)",
            refused.GetProperty("message").GetString());
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
    /// A node is served with its name as its kubernetes.io/hostname label when it has none of its own, as a kubelet labels its
    /// node with its hostname; a label value is at most 63 characters (apimachinery validation.IsValidLabelValue), so a
    /// longer name without the label is refused as the API server refuses such a kubelet's node. It was served with an
    /// invalid label (a client's label selector on it is refused). With the label given, the long name is a node.
    /// </summary>
    [Fact]
    public async Task A_node_name_over_63_characters_needs_a_hostname_label_of_its_own()
    {
        var name = $"long-{new string('n', 59)}";
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"NAME"LABELS},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""".Replace("NAME", name);
        var invalid = await Status(await kube.Http.PostAsync("api/v1/nodes", Json(node.Replace("LABELS", ""))), HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Contains($"node name '{name}' is 64 characters: a node without a kubernetes.io/hostname label of its own", invalid.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await kube.Http.GetAsync($"api/v1/nodes/{name}")).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node.Replace("LABELS", ""","labels":{"kubernetes.io/hostname":"long-n"}""")))).StatusCode);
        var served = JsonDocument.Parse(await kube.Http.GetStringAsync($"api/v1/nodes/{name}")).RootElement;
        Assert.Equal("long-n", served.GetProperty("metadata").GetProperty("labels").GetProperty("kubernetes.io/hostname").GetString());
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
