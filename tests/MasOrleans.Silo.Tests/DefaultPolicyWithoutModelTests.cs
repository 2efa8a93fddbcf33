using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The cluster's stored default is a learned policy, and the silo restarts without its model (no Models__Directory with
/// it): the silo took pods naming no policy (202) that waited for ever, logged a Warning on every retry of each, and
/// stayed Ready. Now it is not ready (the check says why), refuses such pods with a 409, and logs one Error per run.
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
            // Counted under the unknown-policy label: the catalog here does not know ddqn.
            var failed = PrometheusText.Sum(await PrometheusText.Scrape(http), "mas_scheduling_decisions_total", "result=\"error\"");
            if (failed >= 3) break;
            Assert.True(DateTime.UtcNow < deadline, $"dp-wait's cycles failed {failed} times, not 3");
        }
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
}
