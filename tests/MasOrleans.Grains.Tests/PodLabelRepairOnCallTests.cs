using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;
using Orleans.Core.Internal;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pending repair of a node's labels met by the pod's own calls: a SetMetadata with the same labels (the repair asked at
/// once, never failing the call), a deletion and a pod created again under the name, a relabel the node answers false, and
/// a relabel made while the placement's ask of the node was on its way. The repair's timer first asks after ten minutes
/// here, so nothing a test reads comes from a tick of its own.
/// </summary>
public sealed class PodLabelRepairOnCallTests() : LabelRepairTest(new Dictionary<string, string?> { ["Scheduler:LabelRepairFirstDelayMilliseconds"] = "600000" })
{
    [Fact]
    public async Task Applying_the_same_labels_again_repairs_the_node()
    {
        var (pod, node) = await NodeLeftWithNewLabels("lr-same");

        Faults.Otherwise = null;
        await pod.SetMetadata(Team("old"), null);

        await WaitUntil(async () => await NodeTeam(node, "lr-same") == "old", "the node holding the pod's labels");
    }

    /// <summary>An annotation changed while the node still fails: the call succeeds and the annotation is stored (read by the next activation).</summary>
    [Fact]
    public async Task Annotating_a_pod_whose_node_fails_keeps_the_annotation()
    {
        var (pod, _) = await NodeLeftWithNewLabels("lr-annotated");
        Log.Expect("Pod lr-annotated deactivated before node lr-annotated-node took its labels");

        var annotated = await pod.SetMetadata(Team("old"), new Dictionary<string, string> { ["a"] = "b" });

        Assert.Equal("b", annotated!.Annotations!["a"]);
        await pod.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await WaitUntil(() => Task.FromResult(Logged(LogLevel.Warning, "Pod lr-annotated deactivated before node")), "the activation gone");
        var stored = await pod.Get();
        Assert.Equal("b", stored!.Annotations!["a"]);
        Assert.Equal("old", stored.Spec.Labels["team"]);
    }

    /// <summary>The pod created again is placed on the node the deleted one's repair was for: that repair is not its own.</summary>
    [Fact]
    public async Task A_pod_created_again_is_not_repaired_for_the_deleted_one()
    {
        var (pod, node) = await NodeLeftWithNewLabels("lr-again");
        Faults.Otherwise = null;

        Assert.True((await pod.Delete()).IsOk);
        Assert.True(Logged(LogLevel.Information, "Pod lr-again no longer holds node lr-again-node"));
        Assert.True((await pod.Create(PodOf("lr-again") with { Labels = Team("old") }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod created again Running");
        Assert.Equal("lr-again-node", (await pod.Get())!.NodeName);
        // Taken by the node at once: a repair pending for the node would end here, saying the node took the labels.
        await pod.SetMetadata(Team("newer"), null);

        Assert.Equal("newer", await NodeTeam(node, "lr-again"));
        Assert.False(Logged(LogLevel.Information, "Node lr-again-node took pod lr-again's labels"));
    }

    /// <summary>Released by the node behind the pod's back: the node answers the pod's relabel false, which ends the repair.</summary>
    [Fact]
    public async Task A_relabel_the_node_answers_false_ends_the_repair()
    {
        var (pod, node) = await NodeLeftWithNewLabels("lr-gone");
        Faults.Otherwise = null;
        Assert.True(await node.Release("lr-gone", (await pod.Get())!.Spec.CreatedAt));
        var asked = Faults.Asked;

        await pod.SetMetadata(Team("newer"), null);

        Assert.True(Logged(LogLevel.Information, "Pod lr-gone no longer holds node lr-gone-node"));
        Assert.Equal(asked + 1, Faults.Asked);
    }

    /// <summary>
    /// Relabelled to L1 while its cycle placed it, the placement's ask of the node with L1 is held on its way; the pod is
    /// relabelled to L2 meanwhile. Fire-and-forget, the L2 relabel went first and the late L1 landed after, so the node
    /// counted L1. As a turn of the pod, the L2 relabel waits for it (released after a second, as it cannot finish first).
    /// </summary>
    [Fact]
    public async Task A_relabel_while_the_placements_ask_is_on_its_way_leaves_the_node_at_the_newest_labels()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("lr-late-node");
        Assert.True((await node.Register(NodeSpecOf("lr-late-node"))).IsOk);
        Bindings.Stall("lr-late-node");
        var pod = Cluster.Client.GetGrain<IPodGrain>("lr-late");
        Assert.True((await pod.Create(PodOf("lr-late") with { Labels = Team("old") }, null)).Outcome.IsOk);
        await Bindings.Reached("lr-late-node").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await pod.SetMetadata(Team("L1"), null))!.Phase.IsWaiting());
        Hold.Arm();
        Bindings.Resume("lr-late-node");
        await Hold.Reached.WaitAsync(TimeSpan.FromSeconds(10));

        var relabel = pod.SetMetadata(Team("L2"), null);
        await Task.WhenAny(relabel, Task.Delay(TimeSpan.FromSeconds(1)));
        Hold.Release();
        await relabel;
        await Hold.Landed.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("L2", (await pod.Get())!.Spec.Labels["team"]);
        Assert.Equal("L2", await NodeTeam(node, "lr-late"));
    }
}
