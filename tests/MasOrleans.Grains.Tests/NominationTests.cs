using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A preemptor's nomination as kube-scheduler v1.35 keeps it: the pod shows its nominated node (status.nominatedNodeName,
/// set from the PostFilter's NominatingInfo in schedule_one.go handleSchedulingFailure -> updatePod) and the node holds
/// its room; the nominator (pkg/scheduler/backend/queue/nominator.go) keeps one nomination per pod (AddNominatedPod
/// deletes the earlier one) and drops it at once when the pod is assigned or deleted (DeleteNominatedPodIfExists), and
/// binding clears status.nominatedNodeName (feature gate ClearingNominatedNodeNameAfterBinding, beta and on in 1.35).
/// </summary>
public sealed class NominationTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    private IGrainFactory Grains => fixture.Client;

    /// <summary>Matches no node, so the scheduling cycle leaves the pod waiting and the test alone nominates and binds it.</summary>
    private static readonly Dictionary<string, string> Nowhere = new() { ["pool"] = "none-such" };

    private async Task<INodeGrain> NodeOf(string name)
    {
        var node = Grains.GetGrain<INodeGrain>(name);
        var capacity = ResourceVector.Of(cpuMilli: 3000, memoryBytes: 16L << 30);
        Assert.True((await node.Register(new NodeSpec { Name = name, Capacity = capacity })).IsOk);
        return node;
    }

    /// <summary>
    /// A priority-100 pod of 2 cpus, created and left Unschedulable by its cycle. Its policy Never keeps its own retried
    /// cycles (a probe's release moves it) from ending the nomination the test gives it: a preemption that runs and finds
    /// no node does that (the last test), one the pod may not run does not.
    /// </summary>
    private async Task<IPodGrain> WaitingPreemptor(string name)
    {
        var pod = Grains.GetGrain<IPodGrain>(name);
        var spec = PodOf(name, 2000) with { Priority = 100, NodeSelector = Nowhere, PreemptionPolicy = PreemptionPolicy.Never };
        Assert.True((await pod.Create(spec, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Unschedulable, $"{name} unschedulable");
        return pod;
    }

    /// <summary>
    /// Whether a priority-1 pod of 2 cpus may take room on a 3-cpu node: refused while a 2-cpu nomination holds it (2 + 2 > 3).
    /// The probe is released again, so the node is as before.
    /// </summary>
    private static async Task<bool> RoomIsFree(INodeGrain node, string probe)
    {
        var reservation = await node.Reserve(PodOf(probe, 2000) with { Priority = 1 }, GpuAllocation.None);
        if (reservation.Reserved) Assert.True(await node.Release(probe));
        return reservation.Reserved;
    }

    /// <summary>The silo's view, once it knows <paramref name="node"/>, with <paramref name="pod"/> nominated there as the pod's own cycle would nominate it.</summary>
    private async Task<SiloClusterView> NominatedInView(string node, PodSpec pod)
    {
        var view = fixture.Cluster.GetSiloServiceProvider().GetRequiredService<SiloClusterView>();
        await WaitUntil(async () => await view.WithCluster(s => s.Cluster.IndexOf(node) >= 0), $"{node} in the silo's view");
        await view.WithCluster(s =>
        {
            s.Cluster.Nominate(s.Cluster.IndexOf(node), pod);
            return true;
        });
        return view;
    }

    [Fact]
    public async Task A_nominated_pod_shows_its_node_and_deleting_it_frees_the_held_room_at_once()
    {
        var node = await NodeOf("nom-del");
        var pod = await WaitingPreemptor("nom-del-p");
        await pod.Nominate("nom-del");
        Assert.Equal("nom-del", (await pod.Get())!.NominatedNodeName);
        Assert.False(await RoomIsFree(node, "nom-del-probe-1"));

        Assert.True((await pod.Delete()).IsOk);
        // Before: the hold outlived its pod by up to 30 s.
        Assert.True(await RoomIsFree(node, "nom-del-probe-2"));
    }

    [Fact]
    public async Task A_nominated_pod_that_binds_elsewhere_frees_the_held_room_and_shows_no_nominated_node()
    {
        var nominated = await NodeOf("nom-away-a");
        var elsewhere = await NodeOf("nom-away-b");
        var pod = await WaitingPreemptor("nom-away-p");
        await pod.Nominate("nom-away-a");
        Assert.False(await RoomIsFree(nominated, "nom-away-probe-1"));

        var spec = (await pod.Get())!.Spec;
        Assert.True((await elsewhere.Reserve(spec, GpuAllocation.None)).Reserved);
        Assert.NotNull(await pod.MarkScheduled(new Placement("nom-away-b", GpuAllocation.None, new(), "test")));

        Assert.Null((await pod.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(nominated, "nom-away-probe-2"));
        Assert.True((await pod.Delete()).IsOk);
    }

    [Fact]
    public async Task A_nominated_pod_that_binds_on_its_nominated_node_shows_no_nominated_node()
    {
        var node = await NodeOf("nom-here");
        var pod = await WaitingPreemptor("nom-here-p");
        await pod.Nominate("nom-here");
        var spec = (await pod.Get())!.Spec;
        Assert.True((await node.Reserve(spec, GpuAllocation.None)).Reserved);
        Assert.NotNull(await pod.MarkScheduled(new Placement("nom-here", GpuAllocation.None, new(), "test")));
        Assert.Null((await pod.Get())!.NominatedNodeName);
        Assert.True((await pod.Delete()).IsOk);
    }

    [Fact]
    public async Task A_pod_nominated_again_elsewhere_keeps_one_hold_on_its_new_node()
    {
        var first = await NodeOf("nom-move-a");
        var second = await NodeOf("nom-move-b");
        var pod = await WaitingPreemptor("nom-move-p");
        await pod.Nominate("nom-move-a");
        await pod.Nominate("nom-move-b");

        Assert.Equal("nom-move-b", (await pod.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(first, "nom-move-probe-1"));
        Assert.False(await RoomIsFree(second, "nom-move-probe-2"));
        Assert.True((await pod.Delete()).IsOk);
        Assert.True(await RoomIsFree(second, "nom-move-probe-3"));
    }

    /// <summary>
    /// Kube's PostFilter answers NominatedNodeName "" when its preemption finds no node to free ("Specify nominatedNodeName
    /// to clear the pod's nominatedNodeName status", pkg/scheduler/framework/preemption/preemption.go Evaluator.Preempt),
    /// and handleSchedulingFailure clears the status and the nominator's entry (schedule_one.go). A failure without that
    /// (the cycle did not run preemption) leaves the nomination.
    /// </summary>
    [Fact]
    public async Task A_failed_placement_whose_preemption_found_no_node_ends_the_nomination_and_its_hold()
    {
        var node = await NodeOf("nom-end");
        var pod = await WaitingPreemptor("nom-end-p");
        await pod.Nominate("nom-end");

        await pod.MarkUnschedulable("0/1 nodes are available: 1 Insufficient cpu.");
        Assert.Equal("nom-end", (await pod.Get())!.NominatedNodeName);
        Assert.False(await RoomIsFree(node, "nom-end-probe-1"));

        await pod.MarkUnschedulable("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.", clearNomination: true);
        Assert.Null((await pod.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(node, "nom-end-probe-2"));
        Assert.True((await pod.Delete()).IsOk);
    }

    /// <summary>
    /// A deleted pod's nomination is forgotten late (its deletion waited on a node whose silo had died) after a pod of its
    /// name was created again and nominated to the same node. Kube's nominator keys nominations by pod UID
    /// (pkg/scheduler/backend/queue/nominator.go, v1.35: nominatedPodToNode[pod.UID], deleteNominatedPodIfExistsUnlocked),
    /// so the deleted pod's forget leaves the new pod's hold; the new pod's own forget drops it.
    /// </summary>
    [Fact]
    public async Task A_deleted_pods_late_nomination_forget_keeps_the_hold_of_the_pod_created_again_under_its_name()
    {
        var node = await NodeOf("nom-inc");
        var deletedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var recreatedAt = deletedAt.AddSeconds(5);
        await node.Nominate(PodOf("nom-inc-p", 2000) with { Priority = 100, CreatedAt = recreatedAt });
        Assert.False(await RoomIsFree(node, "nom-inc-probe-1"));

        await node.ForgetNomination("nom-inc-p", deletedAt);
        Assert.False(await RoomIsFree(node, "nom-inc-probe-2"));

        await node.ForgetNomination("nom-inc-p", recreatedAt);
        Assert.True(await RoomIsFree(node, "nom-inc-probe-3"));
    }

    /// <summary>
    /// kube's prepareCandidate (pkg/scheduler/framework/preemption, Executor.prepareCandidate) clears the nominatedNodeName of the
    /// pods nominated to the chosen node below the preemptor (getLowerPriorityNominatedPods, clearNominatedNodeName, a
    /// status patch), so clients and the nominator see at once that they are nominated nowhere. nom-clr-n (3 cpu) runs
    /// nom-clr-v (priority 0, 1 cpu); nom-clr-a (priority 100, 2 cpu, Never, a selector no node matches) is nominated
    /// there in the status, the node and the silo's view, as its preemption would leave it; nom-clr-h (priority 200, 3 cpu)
    /// preempts nom-clr-v there. Before, only the view forgot nom-clr-a: it still showed nom-clr-n, and the node kept its
    /// hold, so once nom-clr-h was gone the room stayed held from other pods for up to 30 s.
    /// </summary>
    [Fact]
    public async Task A_preemption_clears_the_lower_priority_nominations_on_its_node_in_the_pods_status_and_the_nodes_hold()
    {
        var pool = new Dictionary<string, string> { ["pool"] = "nom-clr" };
        var node = Grains.GetGrain<INodeGrain>("nom-clr-n");
        Assert.True((await node.Register(new NodeSpec { Name = "nom-clr-n", Capacity = ResourceVector.Of(cpuMilli: 3000, memoryBytes: 16L << 30), Labels = pool })).IsOk);
        var victim = Grains.GetGrain<IPodGrain>("nom-clr-v");
        Assert.True((await victim.Create(PodOf("nom-clr-v", 1000) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitForPod(Grains, "nom-clr-v", p => p.Phase == PodPhase.Running);
        var lower = await WaitingPreemptor("nom-clr-a");
        var lowerSpec = (await lower.Get())!.Spec;
        var view = await NominatedInView("nom-clr-n", lowerSpec);
        await NominateAsCycle(view, "nom-clr-n", lowerSpec);

        var preemptor = Grains.GetGrain<IPodGrain>("nom-clr-h");
        Assert.True((await preemptor.Create(PodOf("nom-clr-h", 3000) with { Priority = 200, NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitForPod(Grains, "nom-clr-h", p => p.Phase == PodPhase.Running && p.NodeName == "nom-clr-n");

        Assert.Null((await lower.Get())!.NominatedNodeName);
        // Its silo's view forgets it once the clear is stored (NominationCleared), not before.
        await WaitUntil(async () => await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-clr-a")) is null, "nom-clr-a forgotten by its silo's view");
        Assert.True((await preemptor.Delete()).IsOk);
        Assert.True(await RoomIsFree(node, "nom-clr-probe"));
        Assert.True((await lower.Delete()).IsOk);
        Assert.True((await victim.Delete()).IsOk);
    }

    /// <summary>
    /// kube's one nominator hears every clear (the pod's status update: v1.35 pkg/scheduler/backend/queue/nominator.go
    /// UpdateNominatedPod drops a pod whose status no longer names a node). Here each silo's view is a nominator, and the
    /// preemptor's cycle that clears a lower pod (IPodGrain.ClearNomination, as GrainCyclePorts sends it) may run on another
    /// silo than the pod's own, whose view its cycles nominated it in. nom-view-a is nominated to nom-view-n in its status,
    /// the node and its silo's view; the clear is sent as another silo's cycle sends it. Before, that view counted the pod
    /// there until its next cycle, keeping its room from the pods of equal or lower priority that silo placed.
    /// </summary>
    [Fact]
    public async Task A_nomination_cleared_by_another_silos_preemption_is_forgotten_by_the_pods_own_silos_view()
    {
        var node = await NodeOf("nom-view-n");
        var lower = await WaitingPreemptor("nom-view-a");
        var spec = (await lower.Get())!.Spec;
        var view = await NominatedInView("nom-view-n", spec);
        var version = await NominateAsCycle(view, "nom-view-n", spec);

        await lower.ClearNomination("nom-view-n", version, spec.CreatedAt);

        Assert.Null((await lower.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(node, "nom-view-probe"));
        await WaitUntil(async () => await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-view-a")) is null, "nom-view-a forgotten by its silo's view");
        Assert.True((await lower.Delete()).IsOk);
    }

    /// <summary>
    /// A clear names the nomination it cleared, its node and stored version: a view that holds the pod nominated to another
    /// node, or to that node as a newer version, keeps that nomination. A pod stored before its nominations had versions
    /// (version 0) is forgotten by its clear.
    /// </summary>
    [Fact]
    public async Task A_views_nomination_to_another_node_outlives_a_clear_of_the_pods_earlier_node()
    {
        await NodeOf("nom-keep-a");
        await NodeOf("nom-keep-b");
        var spec = PodOf("nom-keep-p", 2000) with { Priority = 100 };
        var view = await NominatedInView("nom-keep-b", spec);
        view.NominationStored("nom-keep-p", "nom-keep-b", 2);

        view.ForgetNomination("nom-keep-p", "nom-keep-a", 2);
        view.ForgetNomination("nom-keep-p", "nom-keep-b", 1);
        Assert.Equal("nom-keep-b", await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-keep-p")));
        view.ForgetNomination("nom-keep-p", "nom-keep-b", 2);
        Assert.Null(await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-keep-p")));

        await view.KeepStoredNomination("nom-keep-a", spec, 0);
        Assert.Equal("nom-keep-a", await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-keep-p")));
        view.ForgetNomination("nom-keep-p", "nom-keep-a", 0);
        Assert.Null(await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-keep-p")));
    }

    /// <summary>
    /// Two silos: a preemptor's cycle on another silo clears the lower pod's nomination to the node while the lower pod's
    /// own cycle, whose view never saw that preemptor, nominates it there again; the pod stores the clear first, then the
    /// new nomination. The clear's message to the pod's silo's view must forget only the nomination it cleared: the view
    /// counts the pod there as its status shows it (kube's one nominator follows the status, v1.35
    /// pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod). A clear of that new nomination is forgotten in turn.
    /// </summary>
    [Fact]
    public async Task A_clear_that_reaches_the_pods_own_renomination_to_the_same_node_leaves_it_in_the_view()
    {
        var node = await NodeOf("nom-again-n");
        var lower = await WaitingPreemptor("nom-again-l");
        var spec = (await lower.Get())!.Spec;
        var view = await NominatedInView("nom-again-n", spec);
        var first = await NominateAsCycle(view, "nom-again-n", spec);

        // The pod's own cycle decides on the node again (SchedulingCycle.Decide nominates it in the view at once) ...
        await NominatedInView("nom-again-n", spec);
        // ... the other silo's preemptor clears the stored nomination, and the pod's cycle nominates it, in that order.
        await lower.ClearNomination("nom-again-n", first, spec.CreatedAt);
        await Shard("nom-again-l").Ping();
        var second = await NominateAsCycle(view, "nom-again-n", spec);

        Assert.Equal("nom-again-n", (await lower.Get())!.NominatedNodeName);
        Assert.False(await RoomIsFree(node, "nom-again-probe"));
        Assert.Equal("nom-again-n", await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-again-l")));

        await lower.ClearNomination("nom-again-n", second, spec.CreatedAt);
        await WaitUntil(async () => await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-again-l")) is null, "nom-again-l's new nomination forgotten once cleared");
        Assert.True((await lower.Delete()).IsOk);
    }

    /// <summary>
    /// The pod's one-way clear (pod -> queue shard -> its silo's view) and its cycle's handling of the reply of the Nominate
    /// that clear follows reach that view in either order: nothing orders a one-way request to the shard after a reply
    /// to one of its cycles. Here the clear comes first, the reply (the view hears the version stored) after it, as
    /// GrainCyclePorts would hand it on late. The pod is nominated nowhere, so the view must not count it. Before, the
    /// clear found the cycle's nomination not yet stored, took it for a newer one and kept it, and the reply then marked
    /// it stored: the view counted the pod on the node until its next cycle.
    /// </summary>
    [Fact]
    public async Task A_clear_heard_before_the_reply_of_the_nomination_it_clears_leaves_the_pod_nominated_nowhere_in_the_view()
    {
        await NodeOf("nom-early-n");
        var lower = await WaitingPreemptor("nom-early-l");
        var spec = (await lower.Get())!.Spec;
        // The pod's cycle decided on the node (SchedulingCycle.Decide nominates it in the view at once) ...
        var view = await NominatedInView("nom-early-n", spec);
        long stored = 0;
        var ports = new GrainCyclePorts(Grains, NullLogger.Instance, nominationStored: (_, _, version) => stored = version);
        await ports.Nominate("nom-early-n", spec, "0/1 nodes are available: 1 Insufficient cpu.");
        // ... a preemptor clears the stored nomination, and the pod's clear reaches its shard's view ...
        await lower.ClearNomination("nom-early-n", stored, spec.CreatedAt);
        await Shard("nom-early-l").Ping();
        Assert.Null((await lower.Get())!.NominatedNodeName);
        // ... before the cycle hands on the Nominate's reply.
        view.NominationStored("nom-early-l", "nom-early-n", stored);

        Assert.Null(await view.WithCluster(s => s.Cluster.NominatedNodeOf("nom-early-l")));
        Assert.True((await lower.Delete()).IsOk);
    }

    /// <summary>
    /// A hold the pod's status no longer names (an earlier forget of it failed, Warning 1501) is answered to every later
    /// preemptor on that node: its clear drops it then, as kube's nominator follows the status (v1.35
    /// pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod), rather than keeping the room until the hold lapses.
    /// </summary>
    [Fact]
    public async Task A_clear_of_a_pod_whose_status_names_another_node_drops_its_hold_left_on_the_node()
    {
        var node = await NodeOf("nom-stale-n");
        var lower = await WaitingPreemptor("nom-stale-l");
        var spec = (await lower.Get())!.Spec;
        // The hold left behind, as the pod's own HoldAgain or an earlier Nominate made it; its status names no node.
        await node.Nominate(spec);
        var answer = await node.Nominate(PodOf("nom-stale-preemptor", 1000) with { Priority = 1000 }, preempting: true);
        Assert.Equal(["nom-stale-l"], answer.Below.Select(p => p.Pod.Name));
        await node.ForgetNomination("nom-stale-preemptor");

        await lower.ClearNomination("nom-stale-n", answer.Below[0].Version, spec.CreatedAt);

        Assert.Null((await lower.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(node, "nom-stale-probe"));
        Assert.True((await lower.Delete()).IsOk);
    }

    /// <summary>
    /// Nominates the pod as the cycle's ports of a shard on the silo of <paramref name="view"/> do (its stored nomination
    /// reaches that view); answers the version stored.
    /// </summary>
    private async Task<long> NominateAsCycle(SiloClusterView view, string node, PodSpec pod)
    {
        long stored = 0;
        var ports = new GrainCyclePorts(Grains, NullLogger.Instance, nominationStored: (name, at, version) =>
        {
            view.NominationStored(name, at, version);
            stored = version;
        });
        await ports.Nominate(node, pod, "0/1 nodes are available: 1 Insufficient cpu.");
        return stored;
    }

    /// <summary>The pod's queue shard: a call to it after the pod's one-way messages to it finds them handled.</summary>
    private ISchedulingQueueGrain Shard(string pod)
    {
        var shards = fixture.Cluster.GetSiloServiceProvider().GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
        return Grains.GetGrain<ISchedulingQueueGrain>(QueueShards.Key(QueueShards.Of(pod, shards)));
    }
}
