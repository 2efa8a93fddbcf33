using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// An Eviction of a workload's pod on /k8s races the workload: the eviction fails the pod (Drained), its workload deletes
/// it as it replaces it, and the eviction then deletes it too. When the workload got there first, the eviction answered
/// 404 for the pod it had just evicted, and `kubectl drain` took that as "already gone" and printed no "evicted" line for
/// it (README's session once showed two of three). A silo on a real redis-server, real HTTP.
/// </summary>
public sealed class KubeEvictionRaceTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>Holds every pod deletion not sent by a workload until the pod's workload has deleted the pod: the race, lost every time.</summary>
    private sealed class WorkloadDeletesFirst : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _deletedByWorkload = new();

        private TaskCompletionSource Deleted(string pod) => _deletedByWorkload.GetOrAdd(pod, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

        private static bool IsPodDelete(IGrainCallContext context) =>
            context.InterfaceMethod is { } method && method.DeclaringType == typeof(IPodGrain) && method.Name == nameof(IPodGrain.Delete);

        private static bool FromWorkload(IGrainCallContext context) => context.SourceId is { } source && source.Type.ToString() == "mas-workload";

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (IsPodDelete(context) && !FromWorkload(context))
                await Deleted(context.TargetId.Key.ToString()!).Task.WaitAsync(TimeSpan.FromSeconds(60));
            await context.Invoke();
        }

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            await context.Invoke();
            if (IsPodDelete(context) && FromWorkload(context)) Deleted(context.TargetId.Key.ToString()!).TrySetResult();
        }
    }

    [Fact]
    public async Task An_eviction_whose_pod_its_workload_deleted_first_is_still_201()
    {
        var filter = new WorkloadDeletesFirst();
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, configure: builder =>
        {
            builder.Services.AddSingleton<IIncomingGrainCallFilter>(filter);
            builder.Services.AddSingleton<IOutgoingGrainCallFilter>(filter);
        });
        var http = silo.Http;
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", new { name = "er-node", capacity = new { cpu = "4", memory = "8Gi" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/workloads", new { name = "er", replicas = 1, template = new { requests = new { cpu = "100m" } } })).StatusCode);
        var workload = await http.WaitFor("/api/v1/workloads/er", w => w.GetProperty("readyReplicas").GetInt32() == 1);
        var pod = workload.GetProperty("pods")[0].GetProperty("name").GetString()!;

        var eviction = $$$"""{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"{{{pod}}}","namespace":"default"}}""";
        using var answer = await http.PostAsync($"/k8s/api/v1/namespaces/default/pods/{pod}/eviction", new StringContent(eviction, Encoding.UTF8, "application/json"));
        Assert.Equal((HttpStatusCode.Created, """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}"""),
            (answer.StatusCode, await answer.Content.ReadAsStringAsync()));
        // The workload deleted the evicted pod and replaced it.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/v1/pods/{pod}")).StatusCode);
        await http.WaitFor("/api/v1/workloads/er", w => w.GetProperty("readyReplicas").GetInt32() == 1 && w.GetProperty("pods")[0].GetProperty("name").GetString() != pod);
    }

    /// <summary>Runs <see cref="Before"/> once, before the first eviction call (IPodGrain.Evict) the silo makes.</summary>
    private sealed class BeforeEvict(Func<Task> before) : IOutgoingGrainCallFilter
    {
        private int _ran;

        public Func<Task> Before { get; } = before;

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod is { } method && method.DeclaringType == typeof(IPodGrain) && method.Name == nameof(IPodGrain.Evict)
                && Interlocked.Exchange(ref _ran, 1) == 0)
                await Before();
            await context.Invoke();
        }
    }

    /// <summary>A silo with one 4-cpu node and a running pod (no workload) on it, <paramref name="before"/> run before its Evict.</summary>
    private async Task<SiloHost> SiloWithRunningPod(string pod, Func<HttpClient, Task> before)
    {
        HttpClient? http = null;
        var filter = new BeforeEvict(() => before(http!));
        var silo = await SiloHost.StartAsync(_redis.ConnectionString, configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(filter));
        http = silo.Http;
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", new { name = "er-node", capacity = new { cpu = "4", memory = "8Gi" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod(pod, cpu: "1"))).StatusCode);
        await http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == "Running");
        return silo;
    }

    private static async Task<(HttpStatusCode, string)> Evict(HttpClient http, string pod)
    {
        var eviction = $$$"""{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"{{{pod}}}","namespace":"default"}}""";
        using var answer = await http.PostAsync($"/k8s/api/v1/namespaces/default/pods/{pod}/eviction", new StringContent(eviction, Encoding.UTF8, "application/json"));
        return (answer.StatusCode, await answer.Content.ReadAsStringAsync());
    }

    private static (string? Reason, string? Message) Status(string body)
    {
        var status = JsonDocument.Parse(body).RootElement;
        return (status.GetProperty("reason").GetString(), status.GetProperty("message").GetString());
    }

    /// <summary>
    /// The other side of the 201 rule: a pod deleted (a REST DELETE) after the eviction read it and before it evicted it was
    /// not evicted by this request, so the eviction answers 404, as the API server's does for a pod gone by its delete.
    /// </summary>
    [Fact]
    public async Task An_eviction_whose_pod_a_delete_removed_before_it_evicted_is_404()
    {
        await using var silo = await SiloWithRunningPod("er-gone", async http =>
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/v1/pods/er-gone")).StatusCode));

        var (status, body) = await Evict(silo.Http, "er-gone");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(("NotFound", "pods \"er-gone\" not found"), Status(body));
    }

    /// <summary>
    /// A pod deleted and created again under its name (REST) after the eviction read it and checked its preconditions, and
    /// running again on the node before the eviction's calls: the eviction was of the pod it read, so the new pod is neither
    /// failed nor deleted, and the answer is 409 Conflict (the API server's eviction deletes with preconditions, and a failed
    /// one is a Conflict: pkg/registry/core/pod/storage/eviction.go). Without the pod's creation time in Evict and Delete, the
    /// new pod was evicted (Failed, Drained) and deleted, and the answer was 201.
    /// </summary>
    [Fact]
    public async Task An_eviction_leaves_a_pod_of_the_same_name_created_again_before_it_evicted()
    {
        await using var silo = await SiloWithRunningPod("er-again", async http =>
        {
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/v1/pods/er-again")).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod("er-again", cpu: "1"))).StatusCode);
            await http.WaitFor("/api/v1/pods/er-again", p => p.Phase() == "Running");
        });
        var (status, body) = await Evict(silo.Http, "er-again");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(("Conflict", "Operation cannot be fulfilled on pods \"er-again\": pod 'er-again' was deleted and created again since it was read"), Status(body));
        var pod = await silo.Http.GetFromJsonAsync<JsonElement>("/api/v1/pods/er-again");
        Assert.Equal(("Running", "er-node"), (pod.Phase(), pod.GetProperty("nodeName").GetString()));
    }
}
