using System.Net;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A pod deleted while the silo of its queue shard or of its node is dead: real HTTP, a silo on a real redis-server, state
/// read back from Redis. The pod lives on where it was activated when its shard moved to a silo that joined since; a
/// node grain lives where it was first asked for. The dead silo is a grain call filter that answers the pod's requests to
/// that grain as Orleans answers a call to a silo declared dead (SiloUnavailableException), every time and at once.
/// </summary>
public sealed class DeadSiloDeletionTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>Requests <typeparamref name="TGrain"/>.<paramref name="method"/> about one pod, once <see cref="Dead"/>, as if the grain's silo were dead.</summary>
    private sealed class DeadSiloFor<TGrain>(string method, string pod) : IIncomingGrainCallFilter
    {
        public volatile bool Dead;

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (Dead && context.InterfaceMethod?.DeclaringType == typeof(TGrain) && context.InterfaceMethod.Name == method && Names(context.Request.GetArgument(0)))
                throw new SiloUnavailableException("the grain's silo is dead (test)");
            return context.Invoke();
        }

        private bool Names(object? argument) => argument is string name ? name == pod : argument is PodEntry entry && entry.Name == pod;
    }

    /// <summary>A silo with <paramref name="filter"/>; reconciliation hourly, so it is not what frees a node here.</summary>
    private Task<SiloHost> Start(IIncomingGrainCallFilter filter) =>
        SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string> { ["Scheduler:ReconcileSeconds"] = "3600" },
            configure: builder => builder.Services.AddSingleton(filter));

    /// <summary>A node of <paramref name="nodeCpu"/> CPUs and a pod asking <paramref name="podCpu"/>, waited for until it is in <paramref name="phase"/>.</summary>
    private static async Task NodeAndPod(HttpClient http, string node, string nodeCpu, string pod, string podCpu, string phase)
    {
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", Requests.Node(node, cpu: nodeCpu))).StatusCode);
        using (var created = await http.Post("/api/v1/pods", Requests.Pod(pod, cpu: podCpu)))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        await http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == phase);
    }

    /// <summary>The pod deleted: answered 204, then 404, and its record gone from Redis.</summary>
    private async Task DeleteAndCheckGone(HttpClient http, string pod)
    {
        using (var deleted = await http.DeleteAsync($"/api/v1/pods/{pod}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using (var gone = await http.GetAsync($"/api/v1/pods/{pod}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.DoesNotContain(pod, (await StoredCluster.ReadAsync(_redis.ConnectionString)).Pods.Keys);
    }

    /// <summary>
    /// The pod's record was cleared, then its shard's failure answered the client 503 (404 when asked again) before the
    /// container was stopped and the node released: the node held the pod's room until the shard's reconciliation freed
    /// it, with a warning. The deletion's own effects need no shard: it is answered 204, and the node is free at once.
    /// </summary>
    [Fact]
    public async Task A_running_pod_deleted_while_its_shard_s_silo_is_dead_is_deleted_and_frees_its_node()
    {
        var shard = new DeadSiloFor<ISchedulingQueueGrain>(nameof(ISchedulingQueueGrain.Track), "ds-running");
        await using var silo = await Start(shard);
        var http = silo.Http;
        await NodeAndPod(http, "ds-node", "8", "ds-running", "8", "Running");
        shard.Dead = true;

        await DeleteAndCheckGone(http, "ds-running");
        Assert.Empty((await http.GetJson("/api/v1/nodes/ds-node")).GetProperty("pods").EnumerateArray());
        Assert.Empty((await StoredCluster.ReadAsync(_redis.ConnectionString)).Bindings.GetValueOrDefault("ds-node") ?? []);
        // The room is really free: a pod wanting the whole node runs on it.
        using (var whole = await http.Post("/api/v1/pods", Requests.Pod("ds-whole", cpu: "8")))
            Assert.Equal(HttpStatusCode.Accepted, whole.StatusCode);
        await http.WaitFor("/api/v1/pods/ds-whole", p => p.Phase() == "Running");
    }

    /// <summary>A pod still waiting (it fits no node) deleted while its shard's silo is dead: 204, and its record gone from Redis.</summary>
    [Fact]
    public async Task A_waiting_pod_deleted_while_its_shard_s_silo_is_dead_is_deleted()
    {
        var shard = new DeadSiloFor<ISchedulingQueueGrain>(nameof(ISchedulingQueueGrain.Track), "ds-waiting");
        await using var silo = await Start(shard);
        var http = silo.Http;
        await NodeAndPod(http, "ds-small", "2", "ds-waiting", "4", "Unschedulable");
        shard.Dead = true;

        await DeleteAndCheckGone(http, "ds-waiting");
    }

    /// <summary>
    /// The pod's record was cleared, then the node's failure answered the client 503 (404 when asked again), and the node
    /// held the pod's room until its shard's reconciliation freed it, with a warning. The deletion is answered 204; the
    /// release is asked again, and the node frees the room once it answers (its silo declared dead, the grain active
    /// again on a survivor).
    /// </summary>
    [Fact]
    public async Task A_pod_deleted_while_its_node_s_silo_is_dead_is_deleted_and_frees_the_node_once_it_answers()
    {
        var node = new DeadSiloFor<INodeGrain>(nameof(INodeGrain.Release), "dn-running");
        await using var silo = await Start(node);
        var http = silo.Http;
        await NodeAndPod(http, "dn-node", "8", "dn-running", "8", "Running");
        node.Dead = true;

        await DeleteAndCheckGone(http, "dn-running");

        node.Dead = false;
        await http.WaitFor("/api/v1/nodes/dn-node", n => n.GetProperty("pods").GetArrayLength() == 0);
        Assert.Empty((await StoredCluster.ReadAsync(_redis.ConnectionString)).Bindings.GetValueOrDefault("dn-node") ?? []);
    }
}
