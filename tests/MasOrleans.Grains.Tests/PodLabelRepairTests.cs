using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A node grain counts its bound pods' labels for other pods' affinity and spread. Three failures left a node with other
/// labels than its pod stores, and nothing repaired it (all failed before): a pod relabelled while its cycle placed it
/// whose node did not take the new labels (Warning 1511); a relabel whose node could not be given the old labels back
/// (Error 1513); a relabel refused by a stopping silo after an earlier, broken attempt landed on the node's next
/// activation. The pod now asks its node again until it takes them; a pod deleted meanwhile stops asking. Faults are
/// lifted once the mismatch is shown; the node grain is read after. The repair's asks on a call are in
/// <see cref="PodLabelRepairOnCallTests"/>.
/// </summary>
public sealed class PodLabelRepairTests() : LabelRepairTest()
{
    // A cluster per test: one moves the silo's clock.

    [Fact]
    public async Task A_node_that_did_not_take_a_placed_pods_new_labels_takes_them_once_it_answers()
    {
        Log.Expect("Pod lr-placed was relabelled while its cycle placed it; node lr-placed-node did not take the new labels");
        var node = Cluster.Client.GetGrain<INodeGrain>("lr-placed-node");
        Assert.True((await node.Register(NodeSpecOf("lr-placed-node"))).IsOk);
        Bindings.Stall("lr-placed-node");
        var pod = Cluster.Client.GetGrain<IPodGrain>("lr-placed");
        Assert.True((await pod.Create(PodOf("lr-placed") with { Labels = Team("old") }, null)).Outcome.IsOk);
        await Bindings.Reached("lr-placed-node").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await pod.SetMetadata(Team("new"), null))!.Phase.IsWaiting());
        Faults.Otherwise = RelabelFault.Fail;
        Bindings.Resume("lr-placed-node");
        await WaitUntil(() => Task.FromResult(Logged(LogLevel.Warning, "Pod lr-placed was relabelled while its cycle placed it")), "the placement's relabel failed");
        Assert.Equal("old", await NodeTeam(node, "lr-placed"));

        Faults.Otherwise = null;

        await WaitUntil(async () => await NodeTeam(node, "lr-placed") == "new", "the node holding the pod's labels");
        Assert.Equal("new", (await pod.Get())!.Spec.Labels["team"]);
        Assert.Equal("new", (await Bindings.Read("lr-placed-node")).Single(b => b.Pod.Name == "lr-placed").Pod.Labels["team"]);
        await WaitUntil(() => Task.FromResult(Logged(LogLevel.Information, "Node lr-placed-node took pod lr-placed's labels")), "the repair logged");
    }

    /// <summary>
    /// The placement's first ask refused by a stopping silo (this one, so nothing waits on its announcement): the next
    /// tick normally heals it, so it is said at Information (1522), not as the Warning 1511 (the fixture fails on that).
    /// </summary>
    [Fact]
    public async Task A_placements_relabel_refused_by_a_stopping_silo_is_said_at_information()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("lr-stopping-node");
        Assert.True((await node.Register(NodeSpecOf("lr-stopping-node"))).IsOk);
        Bindings.Stall("lr-stopping-node");
        var pod = Cluster.Client.GetGrain<IPodGrain>("lr-stopping");
        Assert.True((await pod.Create(PodOf("lr-stopping") with { Labels = Team("old") }, null)).Outcome.IsOk);
        await Bindings.Reached("lr-stopping-node").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await pod.SetMetadata(Team("new"), null))!.Phase.IsWaiting());
        Faults.Refusing = Cluster.Silos[0].SiloAddress;
        Faults.Plan(RelabelFault.Refuse);
        Bindings.Resume("lr-stopping-node");

        await WaitUntil(async () => await NodeTeam(node, "lr-stopping") == "new", "the node holding the pod's labels");
        Assert.True(Logged(LogLevel.Information, "Pod lr-stopping was relabelled while its cycle placed it; node lr-stopping-node's silo is stopping"));
    }

    /// <summary>A pod relabelled while it waited, deleted before its cycle bound it: the pod created again under the name is placed without a relabel.</summary>
    [Fact]
    public async Task A_pod_created_again_after_a_relabel_while_waiting_asks_its_node_for_no_labels()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("lr-again-node");
        Assert.True((await node.Register(NodeSpecOf("lr-again-node"))).IsOk);
        Bindings.Stall("lr-again-node");
        var pod = Cluster.Client.GetGrain<IPodGrain>("lr-again");
        Assert.True((await pod.Create(PodOf("lr-again") with { Labels = Team("old") }, null)).Outcome.IsOk);
        await Bindings.Reached("lr-again-node").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await pod.SetMetadata(Team("new"), null))!.Phase.IsWaiting());
        Assert.True((await pod.Delete()).IsOk);
        Bindings.Resume("lr-again-node");
        await WaitUntil(async () => (await node.GetView())!.Pods.Count == 0, "the deleted pod's reservation freed");

        Assert.True((await pod.Create(PodOf("lr-again") with { Labels = Team("other") }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod created again Running");

        Assert.Equal(0, Faults.AskedOf("lr-again-node"));
        Assert.Equal("other", await NodeTeam(node, "lr-again"));
    }

    [Fact]
    public async Task A_node_not_given_the_old_labels_back_takes_them_once_it_answers()
    {
        var (pod, node) = await NodeLeftWithNewLabels("lr-restore");

        Faults.Otherwise = null;

        await WaitUntil(async () => await NodeTeam(node, "lr-restore") == "old", "the node holding the pod's labels");
        Assert.Equal("old", (await pod.Get())!.Spec.Labels["team"]);
        Assert.Equal("old", (await Bindings.Read("lr-restore-node")).Single().Pod.Labels["team"]);
    }

    /// <summary>
    /// The first attempt took the new labels on the node and then broke as if its silo stopped; asked again, the node was
    /// refused by a silo stopping (two silos stopping at once): the pod kept its old labels and asked the node none back.
    /// </summary>
    [Fact]
    public async Task A_node_that_took_a_relabel_refused_after_a_broken_attempt_takes_the_pods_labels_back()
    {
        Log.Expect("Pod lr-refused was relabelled but node lr-refused-node failed to take the new labels");
        var (pod, node) = await RunningPod("lr-refused");
        // This silo, so the refusal is not waited on: it reaches the pod at once (SiloStopping.RefusalAnnounced).
        Faults.Refusing = Cluster.Silos[0].SiloAddress;
        Faults.Plan(RelabelFault.LandThenBreak);
        Faults.Otherwise = RelabelFault.Refuse;
        await Assert.ThrowsAsync<SiloUnavailableException>(() => pod.SetMetadata(Team("new"), null));
        Assert.Equal("old", (await pod.Get())!.Spec.Labels["team"]);
        Assert.Equal("new", await NodeTeam(node, "lr-refused"));

        Faults.Otherwise = null;

        await WaitUntil(async () => await NodeTeam(node, "lr-refused") == "old", "the node holding the pod's labels");
        Assert.Equal("old", (await Bindings.Read("lr-refused-node")).Single().Pod.Labels["team"]);
    }

    /// <summary>Its repeats are Debug (not recorded here): one Warning says it still fails once it has for five minutes.</summary>
    [Fact]
    public async Task A_repair_still_failing_after_five_minutes_is_said_once_at_warning()
    {
        var (_, node) = await NodeLeftWithNewLabels("lr-late");
        Log.Expect("Node lr-late-node has not taken pod lr-late's labels for");
        var asked = Faults.Asked;
        // Orleans reads the silo's clock too: its health checks and watchdog take its periodic timers for late by the step.
        Log.Expect("\\w+ timer should have fired at [^,]+, which is 00:0[56]:[0-9.]+ ago");
        // And its timers, when they fire after the step, say by how much (AsyncTimer; the machine's note allows under ten seconds only).
        Log.Expect("Timer should have fired at .* but fired at .*, which is 00:0[56]:[0-9.]+ longer than expected");
        Clock.Offset = TimeSpan.FromMinutes(6);

        await WaitUntil(() => Task.FromResult(Logged(LogLevel.Warning, "Node lr-late-node has not taken pod lr-late's labels for")), "the warning");
        // Two asks failed since the clock moved: the warning's and the next.
        await WaitUntil(() => Task.FromResult(Faults.Asked >= asked + 2), "a second failed ask");
        Faults.Otherwise = null;
        await WaitUntil(async () => await NodeTeam(node, "lr-late") == "old", "the node holding the pod's labels");

        Assert.Single(Log.Records, r => r.Message.StartsWith("Node lr-late-node has not taken pod lr-late's labels for", StringComparison.Ordinal));
    }

    /// <summary>
    /// Past the deleted pod's first two ticks (1 s and 3 s after its failure): a second pod's repair, begun after the
    /// deletion with the same delays, fails twice more first.
    /// </summary>
    [Fact]
    public async Task A_deleted_pod_stops_repairing_its_node()
    {
        var (pod, _) = await NodeLeftWithNewLabels("lr-deleted");

        Assert.True((await pod.Delete()).IsOk);
        var asked = Faults.AskedOf("lr-deleted-node");
        await NodeLeftWithNewLabels("lr-witness");
        var witnessAsked = Faults.AskedOf("lr-witness-node");

        await WaitUntil(() => Task.FromResult(Faults.AskedOf("lr-witness-node") >= witnessAsked + 2), "the second pod's two ticks");
        Assert.True(Logged(LogLevel.Information, "Pod lr-deleted no longer holds node lr-deleted-node"));
        Assert.Equal(asked, Faults.AskedOf("lr-deleted-node"));
        Assert.Empty(await Bindings.Stored("lr-deleted-node"));
    }

    /// <summary>The default path: a pod not relabelled while it waited asks its node for no labels.</summary>
    [Fact]
    public async Task A_plain_placement_asks_its_node_for_no_labels()
    {
        await RunningPod("lr-plain");

        Assert.Equal(0, Faults.Asked);
    }

    /// <summary>
    /// A repair's ask held on its way past its 5 s limit carries the labels it read; a relabel that lands meanwhile is
    /// overtaken by it, so the repair asks again after it lands, and the node ends at the pod's labels.
    /// </summary>
    [Fact]
    public async Task A_repair_ask_that_outlives_its_limit_is_followed_by_another_after_it_lands()
    {
        var (pod, node) = await NodeLeftWithNewLabels("lr-held");
        Hold.Arm();
        Faults.Otherwise = null;
        await Hold.Reached.WaitAsync(TimeSpan.FromSeconds(30));

        // Waits on the tick's turn, which ends at the ask's limit.
        Assert.Equal("newer", (await pod.SetMetadata(Team("newer"), null))!.Spec.Labels["team"]);
        Assert.Equal("newer", await NodeTeam(node, "lr-held"));
        Hold.Release();
        await Hold.Landed.WaitAsync(TimeSpan.FromSeconds(30));

        await WaitUntil(async () => await NodeTeam(node, "lr-held") == "newer", "the node holding the pod's labels");
        Assert.Equal("newer", (await Bindings.Read("lr-held-node")).Single().Pod.Labels["team"]);
    }
}
