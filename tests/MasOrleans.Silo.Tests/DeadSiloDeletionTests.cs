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

    /// <summary>
    /// Requests <typeparamref name="TGrain"/>.<paramref name="method"/> about one pod, once <see cref="Dead"/>, as if the grain's
    /// silo were dead; or, while <see cref="Unanswered"/> runs, get no answer, as from a silo that died and is not declared
    /// dead yet (the caller's call times out).
    /// </summary>
    private sealed class DeadSiloFor<TGrain>(string method, string pod) : IIncomingGrainCallFilter
    {
        public volatile bool Dead;
        public volatile Task? Unanswered;

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(TGrain) && context.InterfaceMethod.Name == method && Names(context.Request.GetArgument(0)))
            {
                if (Dead) throw new SiloUnavailableException("the grain's silo is dead (test)");
                if (Unanswered is { } silence) await silence;
            }
            await context.Invoke();
        }

        private bool Names(object? argument) => argument is string name ? name == pod : argument is PodEntry entry && entry.Name == pod;
    }

    /// <summary>
    /// The pod's own calls to its node's Release fail, once <see cref="Dead"/>, as if the node's silo were dead (other
    /// callers, its shard's reconciliation, get through), or, while <see cref="Unanswered"/> runs, get no answer yet, as from
    /// a silo that died and is not declared dead yet (held as they leave the pod). Its shard asking it whether that release
    /// is pending is counted, and the pod's answers kept.
    /// </summary>
    private sealed class NodeDeadToItsPod(string pod) : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
    {
        public volatile bool Dead;
        public volatile Task? Unanswered;
        private int _asked;

        public int Asked => Volatile.Read(ref _asked);

        public System.Collections.Concurrent.ConcurrentQueue<bool> Answers { get; } = new();

        private bool IsItsRelease(IGrainCallContext context) =>
            context.InterfaceMethod is { } method && method.DeclaringType == typeof(INodeGrain) && method.Name == nameof(INodeGrain.Release)
            && context.SourceId is { } source && source.Type.ToString() == "mas-pod" && source.Key.ToString() == pod;

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            if (Dead && IsItsRelease(context)) throw new SiloUnavailableException("the node's silo is dead (test)");
            var method = context.InterfaceMethod;
            var asked = method?.DeclaringType == typeof(IPodGrain) && method.Name == nameof(IPodGrain.ReleasePending) && context.TargetId.Key.ToString() == pod;
            if (asked) Interlocked.Increment(ref _asked);
            await context.Invoke();
            if (asked && context.Response?.Result is bool pending) Answers.Enqueue(pending);
        }

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (Unanswered is { } silence && IsItsRelease(context)) await silence;
            await context.Invoke();
        }
    }

    /// <summary>A silo with <paramref name="filter"/>; reconciliation hourly, so it is not what frees a node here.</summary>
    private Task<SiloHost> Start(IIncomingGrainCallFilter filter, IReadOnlyDictionary<string, string>? settings = null) =>
        SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string>(settings ?? new Dictionary<string, string>()) { ["Scheduler:ReconcileSeconds"] = "3600" },
            configure: builder => builder.Services.AddSingleton(filter));

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
        await http.NodeAndPod("ds-node", "8", "ds-running", "8", "Running");
        shard.Dead = true;

        await DeleteAndCheckGone(http, "ds-running");
        Assert.Empty((await http.GetJson("/api/v1/nodes/ds-node")).GetProperty("pods").EnumerateArray());
        Assert.Empty((await StoredCluster.ReadAsync(_redis.ConnectionString)).Bindings.GetValueOrDefault("ds-node") ?? []);
        // The room is really free: a pod wanting the whole node runs on it.
        using (var whole = await http.Post("/api/v1/pods", Requests.Pod("ds-whole", cpu: "8")))
            Assert.Equal(HttpStatusCode.Accepted, whole.StatusCode);
        await http.WaitFor("/api/v1/pods/ds-whole", p => p.Phase() == "Running");
    }

    /// <summary>
    /// A pod deleted while its shard's silo died and is not declared dead yet: the shard's call gets no answer until it times
    /// out. The pod's record was cleared, then the request's own call, started first with the same timeout, timed out
    /// first: 503 for a deletion that was done, and 404 when asked again. It is answered 204 within 3/4 of the timeout (6 s
    /// here), the node freed at once; the shard's call times out after, with the warning that the listing may still show the pod.
    /// </summary>
    [Fact]
    public async Task A_pod_deleted_while_its_shard_s_silo_does_not_answer_is_answered_deleted_before_the_request_times_out()
    {
        var silence = new TaskCompletionSource();
        var shard = new DeadSiloFor<ISchedulingQueueGrain>(nameof(ISchedulingQueueGrain.Track), "ds-silent");
        await using var silo = await Start(shard, new Dictionary<string, string> { ["Orleans:Messaging:ResponseTimeout"] = "00:00:06" });
        silo.Log.Expect("Pod ds-silent deleted, but its queue shard did not answer in time");
        silo.Log.Expect(@"Response did not arrive on time .*mas-pod/ds-silent\]->.*mas-scheduling-queue/\d+\] .*\.Track\(");
        var http = silo.Http;
        await http.NodeAndPod("ds-node", "8", "ds-silent", "8", "Running");
        shard.Unanswered = silence.Task;

        using (var deleted = await http.DeleteAsync("/api/v1/pods/ds-silent"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using (var gone = await http.GetAsync("/api/v1/pods/ds-silent"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Empty((await http.GetJson("/api/v1/nodes/ds-node")).GetProperty("pods").EnumerateArray());
        Assert.DoesNotContain("ds-silent", (await StoredCluster.ReadAsync(_redis.ConnectionString)).Pods.Keys);
        // The shard's call ends as it would (timed out, said loudly) before the test lets the silo go.
        for (var waited = 0; !silo.Log.Records.Any(r => r.Message.StartsWith("Pod ds-silent deleted, but its queue shard", StringComparison.Ordinal)); waited++)
        {
            Assert.True(waited < 600, "the shard's call never timed out");
            await Task.Delay(100);
        }
        silence.SetResult();
    }

    /// <summary>A pod still waiting (it fits no node) deleted while its shard's silo is dead: 204, and its record gone from Redis.</summary>
    [Fact]
    public async Task A_waiting_pod_deleted_while_its_shard_s_silo_is_dead_is_deleted()
    {
        var shard = new DeadSiloFor<ISchedulingQueueGrain>(nameof(ISchedulingQueueGrain.Track), "ds-waiting");
        await using var silo = await Start(shard);
        var http = silo.Http;
        await http.NodeAndPod("ds-small", "2", "ds-waiting", "4", "Unschedulable");
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
        await http.NodeAndPod("dn-node", "8", "dn-running", "8", "Running");
        node.Dead = true;

        await DeleteAndCheckGone(http, "dn-running");

        node.Dead = false;
        await http.WaitFor("/api/v1/nodes/dn-node", n => n.GetProperty("pods").GetArrayLength() == 0);
        Assert.Empty((await StoredCluster.ReadAsync(_redis.ConnectionString)).Bindings.GetValueOrDefault("dn-node") ?? []);
    }

    /// <summary>
    /// A pod deleted while its node's silo is dead asks the node again each second; its shard's reconciliation, seeing the
    /// node hold a reservation for a pod that is gone, released it too, with a warning, whichever came first (after a silo
    /// death, a race the tests had to expect). The shard now leaves a release the deletion still asks for to it: asked,
    /// the pod says so, the node keeps the room until the pod's own release lands, and nothing is logged as a repair.
    /// </summary>
    [Fact]
    public async Task A_deleted_pods_pending_release_is_left_to_the_deletion_by_its_shard_s_reconciliation()
    {
        var node = new NodeDeadToItsPod("dq-running");
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string> { ["Scheduler:ReconcileSeconds"] = "1" },
            configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(node));
        var http = silo.Http;
        await http.NodeAndPod("dq-node", "8", "dq-running", "8", "Running");
        node.Dead = true;

        using (var deleted = await http.DeleteAsync("/api/v1/pods/dq-running"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        // The shard's reconciliation saw the reservation on two passes and asked the pod, instead of releasing it.
        for (var waited = 0; node.Asked == 0; waited++)
        {
            Assert.True(waited < 600, "the shard's reconciliation never asked the pod");
            await Task.Delay(100);
        }
        Assert.Equal(["dq-running"], (await http.GetJson("/api/v1/nodes/dq-node")).GetProperty("pods").EnumerateArray().Select(p => p.GetString()));

        node.Dead = false;
        await http.WaitFor("/api/v1/nodes/dq-node", n => n.GetProperty("pods").GetArrayLength() == 0);
        Assert.Empty((await StoredCluster.ReadAsync(_redis.ConnectionString)).Bindings.GetValueOrDefault("dq-node") ?? []);
    }

    /// <summary>
    /// The pod's first ask of its node's release gets no answer yet (the node's silo died and is not declared dead), and its
    /// shard, reactivated from the records where the pod is gone (here: told the pod is gone), sees the reservation on two
    /// reconciliation passes (every second here, every 10 s by default: well inside a 30 s call timeout) and asks the pod.
    /// The pod counted a release as pending only once that first ask had failed, so it said none was, and the shard released
    /// the room itself with its Warning. It says the release is pending: the room is left to the pod's own release.
    /// </summary>
    [Fact]
    public async Task A_deleted_pods_first_release_still_in_flight_is_left_to_the_deletion_by_its_shard_s_reconciliation()
    {
        var silence = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var node = new NodeDeadToItsPod("dq-inflight");
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string> { ["Scheduler:ReconcileSeconds"] = "1" },
            configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(node).AddSingleton<IOutgoingGrainCallFilter>(node));
        var http = silo.Http;
        await http.NodeAndPod("dq-node", "8", "dq-inflight", "8", "Running");
        node.Unanswered = silence.Task;

        var deletion = http.DeleteAsync("/api/v1/pods/dq-inflight");
        var shards = silo.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MasOrleans.Grains.SchedulerOptions>>().Value.QueueShards;
        var shard = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ISchedulingQueueGrain>(QueueShards.Key(QueueShards.Of("dq-inflight", shards)));
        await shard.Track(new PodEntry("dq-inflight", PodPhase.Running, "dq-node", DateTimeOffset.UtcNow.UtcTicks + TimeSpan.TicksPerHour), removed: true);
        for (var waited = 0; node.Answers.IsEmpty; waited++)
        {
            Assert.True(waited < 600, "the shard's reconciliation never asked the pod");
            await Task.Delay(100);
        }
        Assert.All(node.Answers, pending => Assert.True(pending));
        silence.SetResult();

        using (var deleted = await deletion)
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await http.WaitFor("/api/v1/nodes/dq-node", n => n.GetProperty("pods").GetArrayLength() == 0);
    }
}
