using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A preemptor's nominated node on the pod's two surfaces. kube-scheduler sets status.nominatedNodeName from the
/// PostFilter's NominatingInfo (pkg/scheduler/schedule_one.go handleSchedulingFailure -> updatePod) and, since 1.35
/// (feature gate ClearingNominatedNodeNameAfterBinding, beta and on), the binding clears it.
/// </summary>
public sealed class NominatedNodeTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    public void Dispose() => fixture.Host.Log.AssertClean();

    private HttpClient Http => fixture.Http;

    private static string? Nominated(JsonElement element) =>
        element.TryGetProperty("nominatedNodeName", out var name) ? name.GetString() : null;

    /// <summary>
    /// A priority-100 pod of 2 cpus waits (the one node has 1 cpu and nothing to evict). The scheduling cycle's preemption
    /// nominates through the pod grain before it evicts anyone (GrainCyclePorts.Nominate): called directly here, as for a
    /// preemption whose victims are still leaving (the pod may not preempt, so its own retries keep that nomination). Once a 4-cpu node joins, the pod binds there and the nomination is gone.
    /// </summary>
    [Fact]
    public async Task A_nominated_pod_shows_its_nominated_node_on_rest_and_k8s_until_it_binds()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.Post("/api/v1/nodes", Requests.Node("nn-small", cpu: "1"))).StatusCode);
        // Never: the pod's own next cycle (an idle shard takes it from backoff at once, SchedulerPopFromBackoffQ) would find
        // no victim and clear the nomination the test gives it, as kube's handleSchedulingFailure does (as in KubectlPriorityTests).
        var created = await Http.Post("/api/v1/pods", new
        {
            name = "nn-p", requests = new Dictionary<string, string> { ["cpu"] = "2", ["memory"] = "1Gi" }, priority = 100, preemptionPolicy = "Never",
        });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        await Http.WaitFor("/api/v1/pods/nn-p", p => p.Phase() == "Unschedulable");

        await fixture.Host.Services.GetRequiredService<IGrainFactory>().GetGrain<IPodGrain>("nn-p").Nominate("nn-small");

        Assert.Equal("nn-small", Nominated(await Http.GetJson("/api/v1/pods/nn-p")));
        var k8s = await Http.GetJson("/k8s/api/v1/namespaces/default/pods/nn-p");
        Assert.Equal("nn-small", Nominated(k8s.GetProperty("status")));
        // The listing is the cache the watches serve, refreshed from the pod's report.
        await Http.WaitFor("/k8s/api/v1/namespaces/default/pods", list => list.GetProperty("items").EnumerateArray()
            .Any(p => p.GetProperty("metadata").GetProperty("name").GetString() == "nn-p" && Nominated(p.GetProperty("status")) == "nn-small"));

        Assert.Equal(HttpStatusCode.Created, (await Http.Post("/api/v1/nodes", Requests.Node("nn-big", cpu: "4"))).StatusCode);
        var bound = await Http.WaitFor("/api/v1/pods/nn-p", p => p.TryGetProperty("nodeName", out var node) && node.GetString() == "nn-big");
        Assert.Null(Nominated(bound));
        Assert.Null(Nominated((await Http.GetJson("/k8s/api/v1/namespaces/default/pods/nn-p")).GetProperty("status")));
    }
}
