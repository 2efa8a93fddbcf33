using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Pods;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod's terminal write that fails (Redis gone for a moment): the pod was Failed in memory, Running in storage, kept
/// its node, and refused the eviction asked again ("not on that node any more"). It stays as stored until a write lands.
/// </summary>
public sealed class PodWriteFailureTests : IAsyncLifetime
{
    private readonly SiloLog _log = new();
    private readonly FailingTerminalWrites _storage = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, new OutageNodeBindingStore(),
            configure: silo => GrainClusterFixture.WrapDefaultStorage(silo, _storage.Over));
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    [Fact]
    public async Task An_eviction_whose_write_fails_leaves_the_pod_running_on_its_node_and_can_be_asked_again()
    {
        _log.Expect("mas-pod/pw-evicted");
        _log.Expect("the pod's terminal write failed");
        var grains = _cluster.Client;
        var node = grains.GetGrain<INodeGrain>("pw-node");
        Assert.True((await node.Register(new NodeSpec { Name = "pw-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        var pod = grains.GetGrain<IPodGrain>("pw-evicted");
        Assert.True((await pod.Create(PodOf("pw-evicted", 1000), null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");

        _storage.FailNextTerminalWrite = true;
        await Assert.ThrowsAnyAsync<Exception>(() => pod.Evict("pw-node", PodReasons.TaintEviction, "evicted (test)"));
        Assert.Equal((PodPhase.Running, "pw-node"), ((await pod.Get())!.Phase, (await pod.Get())!.NodeName));
        Assert.Contains("pw-evicted", (await node.GetView())!.Pods.Select(p => p.Pod.Name));

        // Asked again once Redis answers: evicted, and the node freed.
        Assert.True(await pod.Evict("pw-node", PodReasons.TaintEviction, "evicted (test)"));
        Assert.Equal(PodPhase.Failed, (await pod.Get())!.Phase);
        Assert.DoesNotContain("pw-evicted", (await node.GetView())!.Pods.Select(p => p.Pod.Name));
    }

    /// <summary>A container's exit whose write fails is recorded again shortly: the pod ends Succeeded and frees its node.</summary>
    [Fact]
    public async Task A_container_exit_whose_write_fails_is_recorded_again()
    {
        _log.Expect("mas-pod/pw-exits");
        _log.Expect("the pod's terminal write failed");
        var grains = _cluster.Client;
        var node = grains.GetGrain<INodeGrain>("pw-exit-node");
        Assert.True((await node.Register(new NodeSpec { Name = "pw-exit-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        _storage.FailNextTerminalWrite = true;
        var pod = grains.GetGrain<IPodGrain>("pw-exits");
        Assert.True((await pod.Create(PodOf("pw-exits", 1000) with { ExpectedDurationSeconds = 0.2 }, null)).Outcome.IsOk);

        await WaitUntil(async () => !(await node.GetView())!.Pods.Any(p => p.Pod.Name == "pw-exits"), "the node freed");
        Assert.False(_storage.FailNextTerminalWrite); // the first exit's write did fail
        Assert.Equal(PodPhase.Succeeded, (await pod.Get())!.Phase);
    }

    private sealed class FailingTerminalWrites
    {
        public volatile bool FailNextTerminalWrite;

        public IGrainStorage Over(IGrainStorage inner) => new Storage(this, inner);

        private sealed class Storage(FailingTerminalWrites owner, IGrainStorage inner) : IGrainStorage
        {
            public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

            public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
            {
                if (owner.FailNextTerminalWrite && grainState.State is PodState { Phase: PodPhase.Failed or PodPhase.Succeeded })
                {
                    owner.FailNextTerminalWrite = false;
                    throw new InvalidOperationException("the pod's terminal write failed (test)");
                }
                return inner.WriteStateAsync(stateName, grainId, grainState);
            }

            public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
        }
    }
}
