using System.Collections.Concurrent;
using System.Net;
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
}
