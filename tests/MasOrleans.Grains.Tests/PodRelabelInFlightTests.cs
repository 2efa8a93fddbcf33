using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod relabelled while its scheduling cycle is under way (here: the cycle's reservation write is held at the store).
/// As kube-scheduler does (v1.35 pkg/scheduler/eventhandlers.go, updatePodInSchedulingQueue: an update to a pod its
/// cycle has assumed is not queued; the bind goes on with the pod as the cycle read it, and the bound pod's update
/// reaches the cache after, updatePodInCache), the placement stands and the node then counts the new labels. No warning:
/// the race is ordinary, and the fixture fails on any warning a test does not expect.
/// </summary>
public sealed class PodRelabelInFlightTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public async Task A_pod_relabelled_while_its_cycle_reserves_is_bound_as_the_cycle_read_it_and_its_node_then_holds_the_new_labels()
    {
        var node = fixture.Client.GetGrain<INodeGrain>("ri-node");
        Assert.True((await node.Register(NodeSpecOf("ri-node"))).IsOk);
        fixture.Bindings.Stall("ri-node");
        var pod = fixture.Client.GetGrain<IPodGrain>("ri-pod");
        Assert.True((await pod.Create(PodOf("ri-pod") with { Labels = new Dictionary<string, string> { ["team"] = "old" } }, null)).Outcome.IsOk);
        await fixture.Bindings.Reached("ri-node").WaitAsync(TimeSpan.FromSeconds(10));

        var relabelled = await pod.SetMetadata(new Dictionary<string, string> { ["team"] = "new" }, null);
        Assert.Equal("new", relabelled!.Spec.Labels["team"]);
        Assert.True(relabelled.Phase.IsWaiting(), $"the pod is {relabelled.Phase} while its reservation write is held");
        fixture.Bindings.Resume("ri-node");

        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");
        Assert.Equal("ri-node", (await pod.Get())!.NodeName);
        await WaitUntil(async () => (await node.GetView())!.Pods.Single(b => b.Pod.Name == "ri-pod").Pod.Labels["team"] == "new", "the node holding the new labels");
        Assert.Equal("new", (await fixture.Bindings.Read("ri-node")).Single(b => b.Pod.Name == "ri-pod").Pod.Labels["team"]);
    }
}
