using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod's nomination write that fails (Redis gone for a moment) leaves the pod as stored: its status, its holds, and
/// the caller (the scheduling cycle) sees the failure. Before, Nominate and MarkUnschedulable changed the pod's memory
/// and the nodes' holds ahead of the write and kept them when it failed, so the pod answered a nominated node its
/// storage did not have (and lost after a restart), and the hold its storage named was gone. Every pod here is of
/// priority 100, 2 cpu, on 3-cpu nodes, so a priority-1 probe of 2 cpu fits only where no hold of it is.
/// </summary>
public sealed class NominationWriteFailureTests : FailingWritesClusterTest<FailingPodWrites>
{
    private static readonly Dictionary<string, string> Nowhere = new() { ["pool"] = "none-such" };

    private readonly PreemptorInBetween _inBetween = new();

    protected override void Configure(ISiloBuilder silo)
    {
        base.Configure(silo);
        silo.AddIncomingGrainCallFilter(_inBetween);
    }

    private async Task<INodeGrain> NodeOf(string name)
    {
        var node = Cluster.Client.GetGrain<INodeGrain>(name);
        Assert.True((await node.Register(new NodeSpec { Name = name, Capacity = ResourceVector.Of(cpuMilli: 3000, memoryBytes: 16L << 30) })).IsOk);
        return node;
    }

    /// <summary>A pod left Unschedulable by its cycle (a selector no node matches; policy Never, so its retries nominate nothing).</summary>
    private async Task<IPodGrain> WaitingPod(string name)
    {
        var pod = Cluster.Client.GetGrain<IPodGrain>(name);
        Assert.True((await pod.Create(PodOf(name, 2000) with { Priority = 100, NodeSelector = Nowhere, PreemptionPolicy = PreemptionPolicy.Never }, null)).Outcome.IsOk);
        await WaitForPod(Cluster.Client, name, p => p.Phase == PodPhase.Unschedulable);
        return pod;
    }

    /// <summary>Whether a priority-1 pod of 2 cpus may take room on the node (released again at once).</summary>
    private static async Task<bool> RoomIsFree(INodeGrain node, string probe)
    {
        var reservation = await node.Reserve(PodOf(probe, 2000) with { Priority = 1 }, GpuAllocation.None);
        if (reservation.Reserved) Assert.True(await node.Release(probe));
        return reservation.Reserved;
    }

    [Fact]
    public async Task A_nomination_whose_write_fails_leaves_the_pod_nominated_where_it_was_and_holds_no_room_for_it_elsewhere()
    {
        Log.Expect("mas-pod/nwf-move-p"); // the storage provider's own Error for the failed write
        var earlier = await NodeOf("nwf-move-a");
        var next = await NodeOf("nwf-move-b");
        var pod = await WaitingPod("nwf-move-p");
        var createdAt = (await pod.Get())!.Spec.CreatedAt;
        await pod.Nominate("nwf-move-a", createdAt);
        Writes.FailNext(s => s.Spec?.Name == "nwf-move-p" && s.NominatedNodeName == "nwf-move-b", "nomination");

        await Assert.ThrowsAnyAsync<Exception>(() => pod.Nominate("nwf-move-b", createdAt));

        Assert.Equal(1, Writes.Failed);
        Assert.Equal("nwf-move-a", (await pod.Get())!.NominatedNodeName);
        Assert.False(await RoomIsFree(earlier, "nwf-move-probe-a"));
        Assert.True(await RoomIsFree(next, "nwf-move-probe-b"));
    }

    /// <summary>
    /// Nominated to the node it is nominated to already, the node's hold names the new version before the write: when the
    /// write fails, the node holds the stored nomination again, which a preemptor's clear then names (and the pod takes).
    /// </summary>
    [Fact]
    public async Task A_renomination_to_the_same_node_whose_write_fails_leaves_the_node_holding_the_stored_one()
    {
        Log.Expect("mas-pod/nwf-same-p");
        var node = await NodeOf("nwf-same-n");
        var pod = await WaitingPod("nwf-same-p");
        var createdAt = (await pod.Get())!.Spec.CreatedAt;
        var stored = (await pod.Nominate("nwf-same-n", createdAt)).Version;
        Writes.FailNext(s => s.Spec?.Name == "nwf-same-p" && s.NominatedNodeName == "nwf-same-n" && s.NominationVersion != stored, "nomination");

        await Assert.ThrowsAnyAsync<Exception>(() => pod.Nominate("nwf-same-n", createdAt));

        Assert.Equal(1, Writes.Failed);
        var answer = await node.Nominate(PodOf("nwf-same-preemptor", 1000) with { Priority = 1000 }, preempting: true);
        Assert.Equal([("nwf-same-p", stored)], answer.Below.Select(h => (h.Pod.Name, h.Version)));
        await node.ForgetNomination("nwf-same-preemptor");
        await pod.ClearNomination("nwf-same-n", answer.Below[0].Version, createdAt);
        Assert.Null((await pod.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(node, "nwf-same-probe"));
    }

    /// <summary>
    /// As above, with a preemptor nominated to the node while it held the renomination (before the write failed and the
    /// pod held the stored one again): the node answered that version, which the preemptor's clear names; the pod takes
    /// it as a clear of the stored nomination, the one the node holds now. Before, the clear named a version the pod had
    /// not stored and was ignored: the pod stayed nominated, and the node held its room until the hold lapsed.
    /// </summary>
    [Fact]
    public async Task A_clear_of_a_renomination_whose_write_failed_clears_the_stored_nomination()
    {
        Log.Expect("mas-pod/nwf-mid-p");
        var node = await NodeOf("nwf-mid-n");
        var pod = await WaitingPod("nwf-mid-p");
        var createdAt = (await pod.Get())!.Spec.CreatedAt;
        var stored = (await pod.Nominate("nwf-mid-n", createdAt)).Version;
        Writes.FailNext(s => s.Spec?.Name == "nwf-mid-p" && s.NominatedNodeName == "nwf-mid-n" && s.NominationVersion != stored, "nomination");
        _inBetween.Arm("nwf-mid-p", PodOf("nwf-mid-preemptor", 1000) with { Priority = 1000 });

        await Assert.ThrowsAnyAsync<Exception>(() => pod.Nominate("nwf-mid-n", createdAt));

        Assert.Equal(1, Writes.Failed);
        var answered = Assert.Single(_inBetween.Answer!.Below);
        Assert.NotEqual(stored, answered.Version);
        await node.ForgetNomination("nwf-mid-preemptor");
        await pod.ClearNomination("nwf-mid-n", answered.Version, createdAt);
        Assert.Null((await pod.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(node, "nwf-mid-probe"));
    }

    [Fact]
    public async Task A_first_nomination_whose_write_fails_leaves_the_pod_nominated_nowhere()
    {
        Log.Expect("mas-pod/nwf-first-p");
        var node = await NodeOf("nwf-first-n");
        var pod = await WaitingPod("nwf-first-p");
        var createdAt = (await pod.Get())!.Spec.CreatedAt;
        Writes.FailNext(s => s.Spec?.Name == "nwf-first-p" && s.NominatedNodeName == "nwf-first-n", "nomination");

        await Assert.ThrowsAnyAsync<Exception>(() => pod.Nominate("nwf-first-n", createdAt));

        Assert.Equal(1, Writes.Failed);
        Assert.Null((await pod.Get())!.NominatedNodeName);
        Assert.True(await RoomIsFree(node, "nwf-first-probe"));
    }

    /// <summary>The failure whose preemption found no node ends the nomination (clearNomination) only once that is stored.</summary>
    [Fact]
    public async Task A_failure_that_ends_the_nomination_whose_write_fails_leaves_the_pod_nominated_and_held()
    {
        Log.Expect("mas-pod/nwf-end-p");
        var node = await NodeOf("nwf-end-n");
        var pod = await WaitingPod("nwf-end-p");
        var createdAt = (await pod.Get())!.Spec.CreatedAt;
        await pod.Nominate("nwf-end-n", createdAt);
        Writes.FailNext(s => s.Spec?.Name == "nwf-end-p" && s.NominatedNodeName is null, "cleared nomination");

        const string failure = "0/1 nodes are available: 1 Insufficient cpu. preemption: none (test)";
        await Assert.ThrowsAnyAsync<Exception>(() => pod.MarkUnschedulable(failure, clearNomination: true, createdAt));

        Assert.Equal(1, Writes.Failed);
        var after = (await pod.Get())!;
        Assert.Equal("nwf-end-n", after.NominatedNodeName);
        // Its own cycles' repeats of their failure may bump their event's count meanwhile; the failed one is not there.
        Assert.DoesNotContain(after.Events, e => e.Message == failure);
        Assert.False(await RoomIsFree(node, "nwf-end-probe"));
    }

    /// <summary>
    /// Right after the node holds the armed pod's next nomination (before the pod's write), nominates a preemptor there in
    /// the node's own turn, as a preemptor's cycle reaching the node then would, and keeps the node's answer.
    /// </summary>
    private sealed class PreemptorInBetween : IIncomingGrainCallFilter
    {
        private volatile string? _pod;
        private PodSpec? _preemptor;

        public Nomination? Answer { get; private set; }

        public void Arm(string pod, PodSpec preemptor)
        {
            _preemptor = preemptor;
            _pod = pod;
        }

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            await context.Invoke();
            if (_pod is null || context.InterfaceMethod?.DeclaringType != typeof(INodeGrain) || context.InterfaceMethod.Name != nameof(INodeGrain.Nominate)
                || ((PodSpec)context.Request.GetArgument(0)!).Name != _pod)
                return;
            _pod = null;
            Answer = await ((INodeGrain)context.TargetContext.GrainInstance!).Nominate(_preemptor!, preempting: true);
        }
    }
}
