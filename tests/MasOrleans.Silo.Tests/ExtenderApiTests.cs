using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Infrastructure.ExtenderCalls;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The extender routes over real HTTP with kube-scheduler's own JSON, backed by the grains; bind posts the
/// Binding to a recording stand-in for the Kubernetes API (configured through a kubeconfig file).
/// </summary>
[Collection(ExtenderSiloTests.Name)]
public sealed class ExtenderApiTests : ExtenderSiloTest
{
    [Fact]
    public async Task Filter_prioritize_and_bind_as_kube_scheduler_calls_them()
    {
        var filtered = await Post<ExtenderFilterResult>("filter", LoadArgs());
        Assert.Equal("", filtered.Error);
        Assert.Equal(["gpu-a10-1", "gpu-v100-2"], filtered.Nodes!.Items.Select(n => n.Metadata.Name).Order().ToArray());
        Assert.Equal("Insufficient cpu", filtered.FailedAndUnresolvableNodes["gpu-v100-1"]);
        // Nodes kube-scheduler sent are now known to MasOrleans.
        var node = await Http.GetJson("/api/v1/nodes/gpu-a10-1");
        Assert.Equal("31500m", node.GetProperty("capacity").GetProperty("cpu").GetString());

        var priorities = await Post<List<HostPriority>>("prioritize", LoadArgs());
        // Scores derived by hand in MasOrleans.Kubernetes.Tests' ExtenderTests (kube's default profile, 0..10 per node):
        // the silo's runtime default policy is kube, and no pod is bound yet.
        Assert.Equal(new Dictionary<string, long> { ["gpu-a10-1"] = 3, ["gpu-t4-1"] = 0, ["gpu-v100-1"] = 0, ["gpu-v100-2"] = 4 },
            priorities.ToDictionary(p => p.Host, p => p.Score));
        // nodeCacheCapable: kube-scheduler sends names only (pkg/scheduler/extender.go, Prioritize); the nodes registered
        // above score the same.
        var byName = LoadArgs();
        byName.NodeNames = byName.Nodes!.Items.Select(n => n.Metadata.Name).ToList();
        byName.Nodes = null;
        Assert.Equal(priorities.ToDictionary(p => p.Host, p => p.Score), (await Post<List<HostPriority>>("prioritize", byName)).ToDictionary(p => p.Host, p => p.Score));

        var bound = await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs
        {
            PodName = "trainer-0", PodNamespace = "ml", PodUID = "9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f", Node = "gpu-a10-1",
        });
        Assert.Equal("", bound.Error);
        var (method, path, body) = Assert.Single(Kubernetes.Requests);
        Assert.Equal(("POST", "/api/v1/namespaces/ml/pods/trainer-0/binding"), (method, path));
        Assert.Equal("gpu-a10-1", JsonDocument.Parse(body).RootElement.GetProperty("target").GetProperty("name").GetString());

        // MasOrleans records the pod under namespace.name, on that node, with its GPU.
        var pod = await Http.WaitFor("/api/v1/pods/ml.trainer-0", p => p.Phase() == "Running");
        Assert.Equal("gpu-a10-1", pod.GetProperty("nodeName").GetString());
        Assert.Equal(1, pod.GetProperty("gpuDevices").GetArrayLength());
        var allocated = (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("allocated");
        Assert.Equal("6", allocated.GetProperty("cpu").GetString());
    }

    /// <summary>
    /// preemptionPolicy: Never on a pod kube-scheduler sends was dropped: bound through the extender, MasOrleans kept the pod
    /// as PreemptLowerPriority, and placing it again (its node tainted, drained) its own preemption would evict for it. It is
    /// kept now, as the REST API and /k8s keep it (kube's PodEligibleToPreemptOthers: such a pod evicts nobody).
    /// </summary>
    [Fact]
    public async Task A_pod_that_never_preempts_is_bound_and_kept_as_such()
    {
        var args = LoadArgs();
        args.Pod!.Spec.PreemptionPolicy = "Never";
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "trainer-0", PodNamespace = "ml", Node = "gpu-a10-1" })).Error);
        var pod = await Http.WaitFor("/api/v1/pods/ml.trainer-0", p => p.Phase() == "Running");
        Assert.Equal("Never", pod.GetProperty("preemptionPolicy").GetString());
    }

    [Fact]
    public async Task Bad_requests_and_unknown_policies_are_reported_in_kube_schedulers_terms()
    {
        // Each error answered is logged once per verb and cause (ExtenderErrorLog); these are all sent on purpose.
        Host.Log.Expect("^Extender (filter|prioritize|bind) answered kube-scheduler with an error: ");
        using var garbage = await Http.PostAsync("/extender/filter", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Equal("application/problem+json", garbage.Content.Headers.ContentType?.MediaType);

        var args = LoadArgs();
        args.Pod!.Metadata.Annotations[SchedulerExtender.PolicyAnnotation] = "no-such-policy";
        Assert.Contains("unknown policy", (await Post<ExtenderFilterResult>("filter", args)).Error);
        using var prioritize = await Http.PostAsync("/extender/prioritize", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, prioritize.StatusCode);

        // Bodies that are not extender JSON (-1E+300 among them): ExtenderBodyFaultTests.
        var payload = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"));
        // A null policy annotation is the pod's mistake, reported in Error like any other.
        var nullPolicy = payload.Replace("\"masorleans.io/policy\": \"kube\"", "\"masorleans.io/policy\": null");
        Assert.NotEqual(payload, nullPolicy);
        using (var filtered = await Http.PostAsync("/extender/filter", new StringContent(nullPolicy, Encoding.UTF8, "application/json")))
            Assert.Contains("must name a policy", await filtered.Content.ReadAsStringAsync());

        var stranger = await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "never-filtered", PodNamespace = "ml", Node = "gpu-a10-1" });
        Assert.Contains("not filtered", stranger.Error);
        Assert.Empty(Kubernetes.Requests);
    }

    /// <summary>
    /// preemptVerb over HTTP as kube-scheduler v1.35 sends it (pkg/scheduler/extender.go ProcessPreemption, nodeCacheCapable:
    /// NodeNameToMetaVictims) and reads the answer (ExtenderPreemptionResult's Go field names; it has no Error field, so a bad
    /// request is a 400, which HTTPExtender.send takes as the extender's error). gpu-a10-1 holds nothing in MasOrleans: the
    /// pod (6 cpu, one A10 GPU) fits it with kube-scheduler's victim gone, and the node is kept with that victim. gpu-v100-1
    /// has 4 cpu in all: no eviction fits a 6-cpu pod, so it is dropped.
    /// </summary>
    [Fact]
    public async Task Preempt_keeps_the_candidates_where_the_pod_fits_and_refuses_a_bad_request_with_400()
    {
        Host.Log.Expect("answered kube-scheduler with an error: ExtenderPreemptionArgs.Pod is required");
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", LoadArgs())).Error);
        var args = new ExtenderPreemptionArgs
        {
            Pod = LoadArgs().Pod,
            NodeNameToMetaVictims = new Dictionary<string, MetaVictims?>
            {
                ["gpu-a10-1"] = new() { Pods = [new MetaPod { Uid = "u-victim" }] },
                ["gpu-v100-1"] = new() { Pods = [new MetaPod { Uid = "u-other" }] },
            },
        };
        using var response = await Http.PostAsync("/extender/preempt", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var kept = JsonDocument.Parse(text).RootElement.GetProperty("NodeNameToMetaVictims");
        Assert.Equal(["gpu-a10-1"], kept.EnumerateObject().Select(n => n.Name).ToArray());
        Assert.Equal("u-victim", kept.GetProperty("gpu-a10-1").GetProperty("Pods")[0].GetProperty("UID").GetString());

        args.Pod = null;
        using var refused = await Http.PostAsync("/extender/preempt", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Pod is required", await refused.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A decimal holds these (up to 7.9e28) but cores are stored in milli: scaling them overflowed and the request was
    /// a 500. They are refused in kube-scheduler's terms, as "5e25" (valid) and "1e300" (guarded) already were, and as over
    /// the maximum, REST's words for a well-formed quantity too large (they were "not a valid quantity for cpu").
    /// </summary>
    [Theory]
    [InlineData("1e28")]
    [InlineData("8e25")]
    public async Task A_cpu_too_large_to_store_is_an_extender_error_not_a_500(string cpu)
    {
        Host.Log.Expect("answered kube-scheduler with an error: (node gpu-a10-1|pod ml/trainer-0): cpu quantity '[^']+' exceeds the maximum");
        var node = LoadArgs();
        node.Nodes!.Items[0].Status.Allocatable["cpu"] = new k8s.Models.ResourceQuantity(cpu);
        var pod = LoadArgs();
        pod.Pod!.Spec.Containers[0].Resources.Requests["cpu"] = new k8s.Models.ResourceQuantity(cpu);
        foreach (var args in new[] { node, pod })
        {
            var filtered = await Post<ExtenderFilterResult>("filter", args);
            Assert.Matches("cpu quantity '[^']+' exceeds the maximum", filtered.Error);
            using var prioritized = await Http.PostAsync("/extender/prioritize", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, prioritized.StatusCode);
            Assert.Matches("cpu quantity '[^']+' exceeds the maximum", await prioritized.Content.ReadAsStringAsync());
        }
    }

    /// <summary>
    /// A body beyond Extender__MaxRequestBodyBytes on any verb (kube-scheduler sends every candidate node; a large cluster
    /// without nodeCacheCapable) is a 413 saying so, which kube-scheduler takes as the extender's error, never a 500.
    /// </summary>
    [Fact]
    public async Task A_body_beyond_the_extenders_limit_is_a_413_on_every_verb()
    {
        await using var host = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Extender:MaxRequestBodyBytes"] = "2048" });
        var payload = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"));
        Assert.True(payload.Length > 2048, $"the payload is {payload.Length} bytes");
        foreach (var verb in new[] { "filter", "prioritize", "preempt", "bind" })
        {
            using var response = await host.Http.PostAsync($"/extender/{verb}", new StringContent(payload, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{verb}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Bind_answers_an_error_when_no_kubernetes_api_is_configured()
    {
        await using var host = await SiloHost.StartAsync(expectedLog: ["answered kube-scheduler with an error: binding is not enabled"]);
        using var response = await host.Http.PostAsync("/extender/bind", new StringContent(
            KubernetesJson.Serialize(new ExtenderBindingArgs { PodName = "p", PodNamespace = "ml", Node = "n" }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("not enabled", KubernetesJson.Deserialize<ExtenderBindingResult>(await response.Content.ReadAsStringAsync()).Error);
    }
}
