using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The cluster's stored default is a learned policy, and the silo restarts without its model (no Models__Directory with
/// it): the silo took pods naming no policy (202) that waited for ever, logged a Warning on every retry of each, and
/// stayed Ready. Now it is not ready (the check says why), refuses such pods with a 409 (a 403 on /k8s), refuses to scale
/// up a workload whose template names no policy, logs one Error per run, and counts the failed attempts under the
/// policy's name.
/// </summary>
public sealed partial class DefaultPolicyWithoutModelTests() : SiloProcessTestBase("mas-default-policy-")
{
    [GeneratedRegex(@"^fail: MasOrleans\.Grains\.Scheduling\.SchedulingQueueGrain\[1203\]", RegexOptions.Multiline)]
    private static partial Regex CycleFailedRecord();

    [GeneratedRegex(@"\[1207\]", RegexOptions.Multiline)]
    private static partial Regex CycleFailedAgainRecord();

    [Fact]
    public async Task A_silo_restarted_without_the_learned_defaults_model_is_not_ready_and_refuses_pods_naming_no_policy()
    {
        int httpPort = FreePorts.Next(), siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        using (var silo = await StartSilo(httpPort, siloPort, gatewayPort))
        {
            // The shipped models (found above the binaries): ddqn is offered, and becomes the cluster's default.
            Assert.Equal(HttpStatusCode.OK, (await silo.Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "ddqn" })).StatusCode);
            await silo.Http.Post("/api/v1/nodes", Requests.Node("dp-a", cpu: "4"));
            // Fits no node yet: it waits across the restart.
            Assert.Equal(HttpStatusCode.Accepted, (await silo.Http.Post("/api/v1/pods", Requests.Pod("dp-wait", cpu: "8"))).StatusCode);
            await silo.Http.WaitFor("/api/v1/pods/dp-wait", p => p.GetProperty("phase").GetString() == "Unschedulable", 60);
            // Workloads made while the default ran here, their templates naming no policy: REST's placed, the /k8s one empty.
            Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/workloads", new
            {
                name = "dp-old", replicas = 2, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1" } },
            })).StatusCode);
            await silo.Http.WaitFor("/api/v1/workloads/dp-old", w => w.GetProperty("pods").EnumerateArray().Count(p => p.TryGetProperty("nodeName", out var n) && n.ValueKind == JsonValueKind.String) == 2, 60);
            using (var created = await silo.Http.PostAsync(Deployments, KubeJson(Deployment("dp-dep", replicas: 0))))
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal(0, silo.Terminate());
            silo.AssertCleanLog();
        }

        var ppoOnly = Path.Combine(WorkDir, "ppo-only");
        RepoFiles.CopyModel("ppo", Path.Combine(ppoOnly, "ppo"));
        using var restarted = await StartSilo(httpPort, siloPort, gatewayPort, new Dictionary<string, string> { ["Models__Directory"] = ppoOnly },
            notReadyBy: "default-policy");
        var http = restarted.Http;

        using (var ready = await http.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var check = (await ready.Json()).GetProperty("checks").GetProperty("default-policy");
            Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
            Assert.StartsWith("the cluster's default policy 'ddqn' cannot decide on this silo: no ddqn model is installed on this silo (Models__Directory or the shipped models/)",
                check.GetProperty("description").GetString());
        }

        // Naming no policy: refused, and nothing is written.
        using (var refused = await http.Post("/api/v1/pods", Requests.Pod("dp-new", cpu: "1")))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.StartsWith("the cluster's default policy 'ddqn' cannot decide on this silo", (await refused.Json()).GetProperty("detail").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/pods/dp-new")).StatusCode);
        // A workload whose template names no policy: its replicas would wait the same way; refused, nothing written.
        using (var refused = await http.Post("/api/v1/workloads", new
               {
                   name = "dp-web", replicas = 1, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1" } },
               }))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.StartsWith("the cluster's default policy 'ddqn' cannot decide on this silo", (await refused.Json()).GetProperty("detail").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/workloads/dp-web")).StatusCode);
        await RefusesScalingUpWorkloadsNamingNoPolicy(http);
        await RefusesKubernetesObjectsNamingNoScheduler(http);

        // Naming a policy this silo runs: accepted and placed.
        Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod("dp-kube", cpu: "1", policy: "kube"))).StatusCode);
        await http.WaitFor("/api/v1/pods/dp-kube", p => p.TryGetProperty("nodeName", out _), 60);

        // The pod already waiting: its cycles have failed on the missing model since the restart (loading the model fails
        // before any fit check), so a node it fits changes nothing; its event says why, retry after retry.
        await http.Post("/api/v1/nodes", Requests.Node("dp-b", cpu: "16"));
        await http.WaitFor("/api/v1/pods/dp-wait", p => p.GetProperty("events").EnumerateArray()
            .Any(e => e.GetProperty("message").GetString()!.StartsWith("policy 'ddqn' cannot decide: its model (version 0) does not load", StringComparison.Ordinal)), 60);
        for (var deadline = DateTime.UtcNow.AddSeconds(120); ; await Task.Delay(200))
        {
            // Counted under ddqn's name, though this silo's catalog does not hold it (they were counted as policy="unknown").
            var failed = PrometheusText.Value(await PrometheusText.Scrape(http), "mas_scheduling_decisions_total", "policy=\"ddqn\"", "result=\"error\"");
            if (failed >= 3) break;
            Assert.True(DateTime.UtcNow < deadline, $"dp-wait's cycles failed {failed} times under policy=\"ddqn\", not 3");
        }
        var scraped = await PrometheusText.Scrape(http);
        Assert.Equal(0, PrometheusText.Sum(scraped, "mas_scheduling_decisions_total", "policy=\"unknown\""));
        // ddqn's series started at 0 like the catalog's policies' (a first failure is a rise an alert sees): one it never
        // counted in is there.
        Assert.Equal(0, PrometheusText.Value(scraped, "mas_scheduling_failures_total", "policy=\"ddqn\"", "reason=\"timeout\""));
        // One record with the stack for the run, none per retry.
        Assert.Single(CycleFailedRecord().Matches(restarted.Output));
        Assert.Empty(CycleFailedAgainRecord().Matches(restarted.Output));

        // Another default: ready again, and the waiting pod is placed.
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "kube" })).StatusCode);
        await http.WaitFor("/api/v1/pods/dp-wait", p => p.TryGetProperty("nodeName", out _), 60);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        // The rule reads the default as it is now, not as it was at start-up: a pod naming no policy is accepted again.
        Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod("dp-after", cpu: "1"))).StatusCode);
        restarted.AssertCleanLog(@"SchedulingQueueGrain\[1203\] .*Scheduling cycle for pod dp-wait failed", "Health check default-policy with status Unhealthy");
    }

    private const string Deployments = "/k8s/apis/apps/v1/namespaces/default/deployments";

    private static StringContent KubeJson(string json, string type = "application/json") => new(json, Encoding.UTF8, type);

    private static string Deployment(string name, int replicas) =>
        """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"NAME"},"spec":{"replicas":REPLICAS,"selector":{"matchLabels":{"app":"NAME"}},"template":{"metadata":{"labels":{"app":"NAME"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"""
            .Replace("NAME", name).Replace("REPLICAS", $"{replicas}");

    /// <summary>
    /// dp-old's template names no policy: scaling it up would add replicas that wait for ever, so it is refused as its
    /// creation would be now, and nothing changes; scaling it down is allowed.
    /// </summary>
    private static async Task RefusesScalingUpWorkloadsNamingNoPolicy(HttpClient http)
    {
        using (var refused = await http.PutAsJsonAsync("/api/v1/workloads/dp-old/scale", new { replicas = 3 }))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.StartsWith("the cluster's default policy 'ddqn' cannot decide on this silo", (await refused.Json()).GetProperty("detail").GetString());
        }
        Assert.Equal(2, (await (await http.GetAsync("/api/v1/workloads/dp-old")).Json()).GetProperty("replicas").GetInt32());
        using (var down = await http.PutAsJsonAsync("/api/v1/workloads/dp-old/scale", new { replicas = 1 }))
        {
            Assert.Equal(HttpStatusCode.OK, down.StatusCode);
            Assert.Equal(1, (await down.Json()).GetProperty("replicas").GetInt32());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.PutAsJsonAsync("/api/v1/workloads/dp-none/scale", new { replicas = 1 })).StatusCode);
    }

    /// <summary>
    /// The same rule on /k8s, as a Kubernetes Status: 403 Forbidden, as an admission plugin refuses a valid request the
    /// cluster's state does not admit. A pod or deployment naming no scheduler is refused (a dry run too) and nothing is
    /// stored; a deployment whose template names none is not scaled up, through its scale subresource or a patch.
    /// </summary>
    private static async Task RefusesKubernetesObjectsNamingNoScheduler(HttpClient http)
    {
        const string pods = "/k8s/api/v1/namespaces/default/pods";
        const string pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dp-k8s"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}""";
        await AssertForbidden(await http.PostAsync(pods, KubeJson(pod)), "pods", "dp-k8s");
        await AssertForbidden(await http.PostAsync(pods + "?dryRun=All", KubeJson(pod)), "pods", "dp-k8s");
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(pods + "/dp-k8s")).StatusCode);
        // Naming a scheduler this silo runs: created.
        using (var named = await http.PostAsync(pods, KubeJson(pod.Replace("dp-k8s", "dp-k8s-kube").Replace("\"spec\":{", "\"spec\":{\"schedulerName\":\"kube\","))))
            Assert.Equal(HttpStatusCode.Created, named.StatusCode);

        await AssertForbidden(await http.PostAsync(Deployments, KubeJson(Deployment("dp-k8s-web", replicas: 1))), "deployments.apps", "dp-k8s-web");
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(Deployments + "/dp-k8s-web")).StatusCode);

        const string scale = """{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"dp-dep","namespace":"default"},"spec":{"replicas":REPLICAS}}""";
        await AssertForbidden(await http.PutAsync(Deployments + "/dp-dep/scale", KubeJson(scale.Replace("REPLICAS", "1"))), "deployments.apps", "dp-dep");
        await AssertForbidden(await http.PatchAsync(Deployments + "/dp-dep", KubeJson("""{"spec":{"replicas":2}}""", "application/merge-patch+json")), "deployments.apps", "dp-dep");
        await AssertForbidden(await http.PatchAsync(Deployments + "/dp-dep/scale", KubeJson("""{"spec":{"replicas":2}}""", "application/merge-patch+json")), "deployments.apps", "dp-dep");
        using (var same = await http.PutAsync(Deployments + "/dp-dep/scale", KubeJson(scale.Replace("REPLICAS", "0"))))
            Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        using (var stored = await http.GetAsync(Deployments + "/dp-dep"))
            Assert.Equal(0, (await stored.Json()).GetProperty("spec").GetProperty("replicas").GetInt32());
    }

    /// <summary>apimachinery's NewForbidden: resource "name" is forbidden: why, with the object in its details.</summary>
    private static async Task AssertForbidden(HttpResponseMessage response, string resource, string name)
    {
        using (response)
        {
            var status = await response.Json();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode} {status}");
            Assert.Equal("Status", status.GetProperty("kind").GetString());
            Assert.Equal("Forbidden", status.GetProperty("reason").GetString());
            Assert.Equal(403, status.GetProperty("code").GetInt32());
            Assert.StartsWith($"{resource} \"{name}\" is forbidden: the cluster's default policy 'ddqn' cannot decide on this silo: no ddqn model is installed on this silo",
                status.GetProperty("message").GetString());
            Assert.Equal(name, status.GetProperty("details").GetProperty("name").GetString());
        }
    }
}
