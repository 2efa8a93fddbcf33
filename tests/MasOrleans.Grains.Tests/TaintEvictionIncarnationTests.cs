using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A NoExecute taint's eviction is for the pod the node held, not for its name. Kube's taint eviction controller judges a
/// pod created on a tainted node by its own tolerations (PodUpdated, processPodOnNode in
/// pkg/controller/tainteviction/taint_eviction.go), and one that tolerates the taint has the deletion queued under its
/// name cancelled. Here the eviction already on its way names the creation time of the pod it was meant for
/// (<see cref="PodSpec.CreatedAt"/>), as a preemption's does, and a pod created again under the name refuses it.
/// </summary>
public sealed class TaintEvictionIncarnationTests : IAsyncLifetime
{
    private const string PodName = "taint-reborn";
    private readonly SiloLog _log = new();
    private readonly HeldEvictions _held = new(PodName);
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, new OutageNodeBindingStore(), configure: silo => silo.AddOutgoingGrainCallFilter(_held));
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    [Fact]
    public async Task A_pod_created_again_under_the_name_is_not_evicted_by_the_taint_that_evicted_the_deleted_one()
    {
        var grains = _cluster.Client;
        var pool = new Dictionary<string, string> { ["pool"] = PodName };
        var node = grains.GetGrain<INodeGrain>("g-taint-reborn");
        Assert.True((await node.Register(new NodeSpec { Name = "g-taint-reborn", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30), Labels = pool })).IsOk);
        var pod = grains.GetGrain<IPodGrain>(PodName);
        Assert.True((await pod.Create(PodOf(PodName) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the first pod running");

        // A taint the pod does not tolerate: the node evicts it, and the eviction is held on its way to the pod.
        var taint = new Taint("dedicated", "batch", TaintEffects.NoExecute);
        Assert.True((await node.Patch(new NodePatch(Taints: [taint]))).IsOk);
        await _held.Sent;
        // Meanwhile the pod is deleted and created again under its name, this time tolerating the taint, on the same node.
        Assert.True((await pod.Delete()).IsOk);
        Assert.True((await pod.Create(PodOf(PodName) with { NodeSelector = pool, Tolerations = [new Toleration("dedicated", "Equal", "batch", TaintEffects.NoExecute)] }, null)).Outcome.IsOk);
        var created = await WaitForPod(grains, PodName, p => p.Phase == PodPhase.Running);
        Assert.Equal("g-taint-reborn", created.NodeName);

        var delivered = await _held.Release();

        Assert.All(delivered, evicted => Assert.False(evicted, "the deleted pod's taint eviction evicted the pod created again"));
        var after = (await pod.Get())!;
        Assert.Equal((PodPhase.Running, created.Spec.CreatedAt), (after.Phase, after.Spec.CreatedAt));
    }

    /// <summary>Holds the node's IPodGrain.Evict calls to one pod until <see cref="Release"/>, then answers what each returned.</summary>
    private sealed class HeldEvictions(string pod) : IOutgoingGrainCallFilter
    {
        private readonly TaskCompletionSource _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<Task<bool>> _calls = new();

        public Task Sent => _sent.Task;

        public async Task<bool[]> Release()
        {
            _release.SetResult();
            return await Task.WhenAll(_calls);
        }

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name != nameof(IPodGrain.Evict) || context.TargetId.Key.ToString() != pod) return context.Invoke();
            var call = Deliver(context);
            _calls.Enqueue(call);
            _sent.TrySetResult();
            return call;
        }

        private async Task<bool> Deliver(IOutgoingGrainCallContext context)
        {
            await _release.Task;
            await context.Invoke();
            return (bool)context.Result!;
        }
    }
}
