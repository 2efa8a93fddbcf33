using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A running pod relabelled while its node's binding write fails but lands (Redis took it, the answer was lost): the pod
/// kept its old labels and the node's memory did too, but Redis held the new ones, which the node's next activation would
/// read back and count for other pods' affinity and spread.
/// </summary>
public sealed class NodeRelabelStoreFailureTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public async Task A_relabel_whose_binding_write_failed_but_landed_leaves_the_old_labels_stored_once_the_store_answers()
    {
        fixture.Log.Expect("Pod nr-pod was relabelled but node nr-node failed to take the new labels");
        var node = fixture.Client.GetGrain<INodeGrain>("nr-node");
        Assert.True((await node.Register(new NodeSpec { Name = "nr-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        var pod = fixture.Client.GetGrain<IPodGrain>("nr-pod");
        Assert.True((await pod.Create(PodOf("nr-pod") with { Labels = new Dictionary<string, string> { ["team"] = "old" } }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");

        fixture.Bindings.Fail("nr-node", failedAddsLand: true);
        await Assert.ThrowsAnyAsync<TimeoutException>(() => pod.SetMetadata(new Dictionary<string, string> { ["team"] = "new" }, null));
        Assert.Equal("old", (await pod.Get())!.Spec.Labels["team"]);
        Assert.Equal("old", (await node.GetView())!.Pods.Single(b => b.Pod.Name == "nr-pod").Pod.Labels["team"]);

        fixture.Bindings.Recover("nr-node");
        await WaitUntil(async () => (await fixture.Bindings.Read("nr-node")).Single(b => b.Pod.Name == "nr-pod").Pod.Labels["team"] == "old", "the old labels stored");
    }
}
