using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// The one scheduling cycle, with fakes of its ports: a snapshot, the nodes' own authority (a second ClusterState),
/// and a recorder. Expected nodes are worked out by hand from the FGD paper's BestFit (fgd-policies.md: score =
/// 0.5 (free cpu - req)/128000 + 0.5 (free GPU - req)/8000, node score (1 - score) x 100, min-max normalized).
/// </summary>
public sealed class SchedulingCycleTests
{
    private const long Cpu = 1000;

    /// <summary>
    /// n0 has 4 cores, n1 8. For a 1-core pod: n0 (1 - 0.5 x 3000/128000) x 100 = 98.83, n1 (1 - 0.5 x 7000/128000) x 100
    /// = 97.27; min-max normalized n0 = 100, n1 = 0.
    /// </summary>
    private readonly ClusterState _snapshot = Of(Node("n0", 4 * Cpu, 32 * Gi), Node("n1", 8 * Cpu, 32 * Gi));
    private readonly ClusterState _authority = Of(Node("n0", 4 * Cpu, 32 * Gi), Node("n1", 8 * Cpu, 32 * Gi));
    private readonly PostBindCounter _counter = new();
    private readonly FakeNodes _nodes;
    private readonly FakeRecorder _recorder;
    private readonly PolicyCatalog _catalog = PolicyCatalog.CreateDefault();

    public SchedulingCycleTests()
    {
        _nodes = new FakeNodes(_authority);
        _recorder = new FakeRecorder(_authority);
        // best-fit plus a plugin that scores 0 everywhere and counts PostBind calls, as a learned policy records experience.
        _catalog.Register("counting", "best-fit with a PostBind counter", o =>
        {
            var bestFit = _catalog.Create("best-fit", o);
            return bestFit with { Name = "counting", Scores = [.. bestFit.Scores, new WeightedScorePlugin(_counter, 1)] };
        });
    }

    private SchedulingCycle Cycle(int maxAttempts = 4) => new(new PolicySchedulers(_catalog), new FakeSnapshot(_snapshot, "kube"),
        _nodes, _recorder, _recorder, new CycleOptions { MaxAttempts = maxAttempts }, new Random(1));

    /// <summary>
    /// n1 full with "low" (8 cores, priority 0, created at <paramref name="lowCreatedAt"/> if given) and n0 with "filler"
    /// (4 cores, priority 100), in the view and on the nodes: a 6-core pod finds room only by evicting low.
    /// </summary>
    private PodSpec FillNodes(DateTimeOffset? lowCreatedAt = null)
    {
        var low = Pod("low", cpuMilli: 8 * Cpu) with { Priority = 0 };
        if (lowCreatedAt is { } created) low = low with { CreatedAt = created };
        var filler = Pod("filler", cpuMilli: 4 * Cpu) with { Priority = 100 };
        foreach (var state in new[] { _snapshot, _authority })
        {
            Assert.True(state.TryBind(1, low, GpuAllocation.None));
            Assert.True(state.TryBind(0, filler, GpuAllocation.None));
        }
        return low;
    }

    private static PodSpec Counting(string name, long cpu = Cpu) => Pod(name, cpuMilli: cpu, memoryBytes: Gi) with { Policy = "counting" };

    [Fact]
    public async Task A_bound_decision_carries_its_scores_and_runs_PostBind_once()
    {
        var result = await Cycle().Run(Counting("p"));

        Assert.Equal(CycleVerdict.Bound, result.Verdict);
        var (pod, binding) = Assert.Single(_recorder.Bound);
        Assert.Equal(("p", "n0"), (pod.Name, binding.Node));
        Assert.Equal(100, binding.Scores["BestFit"]);
        Assert.Equal([("p", "n0")], _counter.Calls);
        Assert.True(_authority.TryGetPodLocation("p", out var held, out _) && held == 0);
        Assert.True(_snapshot.TryGetPodLocation("p", out var assumed, out _) && assumed == 0);
    }

    [Fact]
    public async Task A_refused_reservation_is_forgotten_retried_and_teaches_nothing()
    {
        _nodes.Refusals.Enqueue("taken meanwhile");

        var result = await Cycle().Run(Counting("p"));

        Assert.Equal(CycleVerdict.Bound, result.Verdict);
        Assert.Equal(2, _nodes.Reserves);
        Assert.Equal([("p", "n0")], _counter.Calls);
    }

    [Fact]
    public async Task Refusals_on_every_attempt_end_in_a_conflict_with_nothing_assumed()
    {
        for (var i = 0; i < 3; i++) _nodes.Refusals.Enqueue("taken meanwhile");

        var result = await Cycle(maxAttempts: 3).Run(Counting("p"));

        Assert.Equal(CycleVerdict.Conflict, result.Verdict);
        Assert.Contains("conflicted 3 times; last refusal n0: taken meanwhile", Assert.Single(_recorder.Unschedulable).Message);
        Assert.False(_snapshot.TryGetPodLocation("p", out _, out _));
        Assert.Empty(_counter.Calls);
    }

    [Fact]
    public async Task Explaining_assumes_nothing_and_teaches_nothing()
    {
        var explanation = await Cycle().Explain(Counting("p"));

        Assert.Equal("n0", explanation!.ChosenNode);
        Assert.False(_snapshot.TryGetPodLocation("p", out _, out _));
        Assert.Equal(0, _nodes.Reserves);
        Assert.Empty(_counter.Calls);
    }

    [Fact]
    public async Task A_pod_deleted_while_it_was_scheduled_releases_its_node()
    {
        _recorder.Accept = false;

        var result = await Cycle().Run(Counting("p"));

        Assert.Equal(CycleVerdict.Gone, result.Verdict);
        Assert.Equal(["n0/p"], _nodes.Released);
        Assert.False(_authority.TryGetPodLocation("p", out _, out _));
        Assert.False(_snapshot.TryGetPodLocation("p", out _, out _));
        Assert.Empty(_counter.Calls);
    }

    [Fact]
    public async Task A_pod_the_snapshot_shows_bound_is_confirmed_by_its_node_not_placed_again()
    {
        var pod = Counting("p");
        Assert.True(_snapshot.TryBind(1, pod, GpuAllocation.None));
        Assert.True(_authority.TryBind(1, pod, GpuAllocation.None));

        var result = await Cycle().Run(pod);

        Assert.Equal(("n1", CycleVerdict.Bound), (result.Node, result.Verdict));
        Assert.Equal(1, _nodes.Reserves);
        Assert.Empty(Assert.Single(_recorder.Bound).Binding.Scores);
    }

    [Fact]
    public async Task A_merely_assumed_pod_that_its_node_does_not_hold_is_placed_afresh()
    {
        var pod = Counting("p");
        Assert.True(_snapshot.TryBind(1, pod, GpuAllocation.None)); // an assumption a crash left behind
        _nodes.RefuseUnknownHeld = true;

        var result = await Cycle().Run(pod);

        Assert.Equal(("n0", CycleVerdict.Bound), (result.Node, result.Verdict));
        Assert.True(_authority.TryGetPodLocation("p", out var held, out _) && held == 0);
    }

    /// <summary>
    /// A reservation that landed but whose answer was lost (in SiloStopTests, the node's silo stopped gracefully with the
    /// reservation's write under way, and the cycle's call failed with "the target silo became unavailable") is asked
    /// again at its node before the pod goes anywhere else. Failed before: the failure forgot the assumption, so the next
    /// attempt chose n1 (meanwhile the better fit) while n0 held the pod: held by two nodes in a real cluster, refused as
    /// "bound elsewhere" by this fake, whose nodes share one authority, until the cycle gave up.
    /// </summary>
    [Fact]
    public async Task A_reservation_whose_answer_was_lost_is_asked_again_at_its_node_before_the_pod_goes_elsewhere()
    {
        var pod = Counting("p");
        _nodes.LoseAnswers = 1;
        await Assert.ThrowsAsync<TimeoutException>(async () => await Cycle().Run(pod));
        Assert.True(_authority.TryGetPodLocation("p", out var held, out _) && held == 0);
        // Meanwhile n1 became the better fit for a 1-core pod: 6 of its 8 cores taken, so best-fit's n1 leaves 1 core free, n0 3.
        var other = Pod("r", cpuMilli: 6 * Cpu, memoryBytes: Gi);
        Assert.True(_snapshot.TryBind(1, other, GpuAllocation.None));
        Assert.True(_authority.TryBind(1, other, GpuAllocation.None));

        var result = await Cycle().Run(pod);

        Assert.Equal(("n0", CycleVerdict.Bound), (result.Node, result.Verdict));
        Assert.Equal(["n0", "n0"], _nodes.Asked);
        Assert.True(_authority.TryGetPodLocation("p", out held, out _) && held == 0);
    }

    /// <summary>
    /// A pod that fits nowhere, on an empty cluster: kube's FailedScheduling message ends with its preemption's verdict
    /// (FitError.Error, pkg/scheduler/framework/types.go, appends the PostFilter's message after a space; DefaultPreemption
    /// prefixes "preemption: " to the dry run's own FitError). 16 cpus is above both nodes' allocatable (4, 8), so
    /// NodeResourcesFit rejects them UnschedulableAndUnresolvable (fit.go, InsufficientResource.Unresolvable, since v1.34)
    /// and nodesWherePreemptionMightHelp passes both over: "Preemption is not helpful for scheduling" (preemption.go).
    /// </summary>
    [Fact]
    public async Task Unknown_policies_and_pods_that_fit_nowhere_are_unschedulable_with_the_reason()
    {
        var unknown = await Cycle().Run(Counting("u") with { Policy = "nope" });
        var tooBig = await Cycle().Run(Pod("big", cpuMilli: 16 * Cpu));

        Assert.Equal((CycleVerdict.Unschedulable, CycleResult.UnknownPolicy), (unknown.Verdict, unknown.Reason));
        Assert.Equal((CycleVerdict.Unschedulable, CycleResult.NoFit), (tooBig.Verdict, tooBig.Reason));
        Assert.Equal(["unknown policy 'nope'",
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."],
            _recorder.Unschedulable.Select(u => u.Message));
        // The preemption ran and found no node: kube's PostFilter answers NominatedNodeName "" (Evaluator.Preempt), which
        // ends the pod's nomination; the unknown policy never reached it.
        Assert.Equal(["big"], _recorder.NominationCleared);
    }

    [Fact]
    public async Task Preemption_nominates_the_node_evicts_the_lower_priority_pod_and_binds_there()
    {
        FillNodes();

        var result = await Cycle().Run(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10 });

        Assert.Equal(("n1", CycleVerdict.Bound), (result.Node, result.Verdict));
        Assert.Equal(["n1/high"], _nodes.Nominated);
        Assert.Equal(["low"], _recorder.Evicted);
        Assert.True(_authority.TryGetPodLocation("high", out var held, out _) && held == 1);
        Assert.False(_authority.TryGetPodLocation("low", out _, out _));
    }

    /// <summary>
    /// A preemptor is bound on the node preemption chose, not one its policy's scores chose (it fit nowhere, so they never
    /// ran): no decision of the policy was bound, and a learned policy must not learn one (issue 11: experience only from
    /// bound decisions). A pod the policy places next runs PostBind as every bound decision does.
    /// </summary>
    [Fact]
    public async Task A_preemptors_binding_teaches_nothing_and_the_next_scored_placement_does()
    {
        FillNodes();

        var preemptor = await Cycle().Run(Counting("high", cpu: 6 * Cpu) with { Priority = 10 });
        Assert.Equal(("n1", CycleVerdict.Bound), (preemptor.Node, preemptor.Verdict));
        Assert.Equal(["low"], _recorder.Evicted);
        Assert.Empty(_counter.Calls);

        // n1 has 2 of its 8 cores left, n0 none: n1 is where a 1-core pod goes.
        Assert.Equal(CycleVerdict.Bound, (await Cycle().Run(Counting("next"))).Verdict);
        Assert.Equal([("next", "n1")], _counter.Calls);
    }

    /// <summary>
    /// Another cycle runs while the victim is being evicted, after the view has heard of its release: "mid" (4 cores,
    /// priority 5) must not take n1, where "high" (6 cores, priority 10) is nominated and 8 cores hold only one of them
    /// (kube's findNodesThatPassFilters filters with the nominated pods of equal or higher priority counted,
    /// RunFilterPluginsWithNominatedPods in pkg/scheduler/framework/runtime/framework.go). n0 is full with "filler"
    /// (priority 100), so mid fits nowhere and may evict no one: n1 holds nothing below priority 5 and n0 only a higher
    /// pod ("No preemption victims found", default_preemption.go SelectVictimsOnNode). high then binds on n1.
    /// </summary>
    [Fact]
    public async Task A_lower_priority_pod_does_not_take_the_room_a_preemptor_is_nominated_to()
    {
        FillNodes();
        CycleResult? mid = null;
        _recorder.BeforeEvict = _ =>
        {
            Assert.True(_snapshot.Unbind("low"));
            mid = Cycle().Run(Pod("mid", cpuMilli: 4 * Cpu) with { Priority = 5 }).AsTask().GetAwaiter().GetResult();
        };

        var high = await Cycle().Run(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10 });

        Assert.Equal((CycleVerdict.Unschedulable, CycleResult.NoFit), (mid!.Verdict, mid.Reason));
        Assert.Equal(("mid", "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."),
            (_recorder.Unschedulable.Single().Pod.Name, _recorder.Unschedulable.Single().Message));
        Assert.Equal(("n1", CycleVerdict.Bound), (high.Node, high.Verdict));
        // Bound, high is nominated nowhere any more.
        Assert.Null(_snapshot.NominatedNodeOf("high"));
    }

    /// <summary>
    /// kube's prepareCandidate (pkg/scheduler/framework/preemption/preemption.go) clears the nominations of the pods
    /// nominated to the chosen node below the preemptor's priority (getLowerPriorityNominatedPods: PodPriority(p) &lt;
    /// PodPriority(preemptor); clearNominatedNodeName): they may not fit beside it, and look for another node. "lower"
    /// (priority 3) and "peer" (priority 10, 2 cores) wait for n1; "high" (6 cores, priority 10) evicts "low" there, with
    /// peer counted (6 + 2 = 8 cores, n1's all). lower's clear is asked, peer's, of equal priority, is not. The snapshot
    /// keeps lower until the pod's clear is heard (kube's nominator follows the pod's status update, v1.35
    /// pkg/scheduler/backend/queue/nominator.go UpdateNominatedPod): the recorder here hears it and tells no one.
    /// </summary>
    [Fact]
    public async Task Preemption_clears_the_lower_priority_nominations_on_its_node()
    {
        FillNodes();
        _snapshot.Nominate(1, Pod("lower", cpuMilli: 2 * Cpu) with { Priority = 3 }, stored: 5);
        _snapshot.Nominate(1, Pod("peer", cpuMilli: 2 * Cpu) with { Priority = 10 }, stored: 6);

        var high = await Cycle().Run(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10 });

        Assert.Equal(("n1", CycleVerdict.Bound), (high.Node, high.Verdict));
        Assert.Equal(["low"], _recorder.Evicted);
        // In the pod's status and the node's hold (clearNominatedNodeName), the peer's left alone.
        Assert.Equal(["n1/lower@5"], _recorder.NominationsBelowCleared);
        Assert.Equal(("n1", "n1"), (_snapshot.NominatedNodeOf("lower"), _snapshot.NominatedNodeOf("peer")));
    }

    /// <summary>
    /// A clear names the nomination it clears by the version its pod stored (IBindingRecorder.NominationCleared), so a
    /// nomination the view holds that its pod has not stored yet (its own cycle's, whose Nominate has not answered) is
    /// sent no clear: the pod stores it after the preemptor's nomination, and the node answers it to the preemptor only
    /// if it held it first, with its version.
    /// </summary>
    [Fact]
    public async Task Preemption_sends_no_clear_for_a_lower_nomination_not_stored_yet()
    {
        FillNodes();
        var lower = Pod("lower", cpuMilli: 2 * Cpu) with { Priority = 3 };
        _snapshot.Nominate(1, lower);

        var high = await Cycle().Run(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10 });

        Assert.Equal(("n1", CycleVerdict.Bound), (high.Node, high.Verdict));
        Assert.Empty(_recorder.NominationsBelowCleared);
        Assert.Equal("n1", _snapshot.NominatedNodeOf("lower"));
    }

    /// <summary>
    /// The node holds every silo's nominations, a silo's view only those of its own shards: "remote" (priority 3), nominated
    /// to n1 by another silo's cycle, is absent from this view, and the node answers the preemptor's nomination with it
    /// (and with "lower", which the view held too). Before, only the view's lower pods were cleared, so remote kept its
    /// nominated node in its status. Each is cleared once.
    /// </summary>
    [Fact]
    public async Task Preemption_clears_the_lower_priority_nominations_the_node_held_for_other_silos_too()
    {
        FillNodes();
        var lower = Pod("lower", cpuMilli: 2 * Cpu) with { Priority = 3 };
        _snapshot.Nominate(1, lower, stored: 5);
        _nodes.HeldBelow.AddRange([(lower, 5), (Pod("remote", cpuMilli: Cpu) with { Priority = 3 }, 7)]);

        var high = await Cycle().Run(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10 });

        Assert.Equal(("n1", CycleVerdict.Bound), (high.Node, high.Verdict));
        Assert.Equal(["n1/lower@5", "n1/remote@7"], _recorder.NominationsBelowCleared);
    }

    /// <summary>
    /// The victim is deleted and created again (same name, later creation time) on its node between the preemptor's choice
    /// and the eviction: the new pod refuses the eviction (it was never chosen), and the preemptor takes the victim as gone
    /// without taking the new pod out of its view, so it does not assume room the node does not have.
    /// </summary>
    [Fact]
    public async Task A_victim_created_again_before_its_eviction_stays_in_the_view_and_the_preemptor_does_not_take_its_room()
    {
        var created = new DateTimeOffset(2026, 12, 6, 2, 0, 0, TimeSpan.Zero);
        var low = FillNodes(created);
        var again = low with { CreatedAt = created.AddSeconds(1) };
        // The view re-read the node meanwhile, as the node grain's change reaches it.
        _recorder.BeforeEvict = _ =>
        {
            foreach (var state in new[] { _snapshot, _authority })
            {
                Assert.True(state.Unbind("low"));
                Assert.True(state.TryBind(1, again, GpuAllocation.None));
            }
        };

        var result = await Cycle().Run(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10 });

        Assert.Empty(_recorder.Evicted);
        // n1 (8 cores) holds the new 8-core pod: no room for 6 more, and the view says so.
        Assert.True(_snapshot.TryGetPodLocation("low", out var node, out _) && node == 1);
        Assert.Equal(again.CreatedAt, _snapshot.PodsOn(1).Single(b => b.Pod.Name == "low").Pod.CreatedAt);
        Assert.False(_snapshot.TryGetPodLocation("high", out _, out _));
        Assert.Equal((CycleVerdict.Unschedulable, CycleResult.NoFit), (result.Verdict, result.Reason));
    }

    /// <summary>
    /// kube's FailedScheduling message for a pod with preemptionPolicy Never ends with its preemption's reason (the
    /// PostFilter's "preemption: " and PodEligibleToPreemptOthers' "not eligible due to preemptionPolicy=Never.",
    /// pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go); here evicting "low" would have made room.
    /// </summary>
    [Fact]
    public async Task A_pod_with_preemption_policy_never_is_told_it_is_not_eligible_to_preempt()
    {
        FillNodes();

        var result = await Cycle().Run(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10, PreemptionPolicy = PreemptionPolicy.Never });

        Assert.Equal((CycleVerdict.Unschedulable, CycleResult.NoFit), (result.Verdict, result.Reason));
        Assert.Equal("0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.", result.Message);
        Assert.Equal([result.Message], _recorder.Unschedulable.Select(u => u.Message));
        Assert.Empty(_recorder.Evicted);
        // Not eligible: kube's PostFilter returns no result, so a nomination the pod has stays.
        Assert.Empty(_recorder.NominationCleared);
    }

    [Fact]
    public async Task Explaining_a_pod_that_would_preempt_names_the_node_and_victims_and_leaves_the_view_as_it_was()
    {
        // The same cluster as the preemption test above: only evicting "low" (priority 0, 8 cpu on n1) makes room.
        var low = Pod("low", cpuMilli: 8 * Cpu) with { Priority = 0 };
        var filler = Pod("filler", cpuMilli: 4 * Cpu) with { Priority = 100 };
        Assert.True(_snapshot.TryBind(1, low, GpuAllocation.None));
        Assert.True(_snapshot.TryBind(0, filler, GpuAllocation.None));
        var version = _snapshot.Version;

        var explanation = await Cycle().Explain(Pod("high", cpuMilli: 6 * Cpu) with { Priority = 10 });

        Assert.Null(explanation!.ChosenNode);
        Assert.Equal("n1", explanation.NominatedNode);
        Assert.Equal(["low"], explanation.Victims);
        // Worked out on a copy: the view the cycles share was not touched (not even unbound and bound back).
        Assert.Equal(version, _snapshot.Version);
        Assert.True(_snapshot.TryGetPodLocation("low", out var node, out _) && node == 1);
        Assert.Empty(_nodes.Nominated);
        Assert.Empty(_recorder.Evicted);
    }

    /// <summary>Explain words a pod that no preemption can help as the cycle's FailedScheduling message does.</summary>
    [Fact]
    public async Task Explaining_a_pod_that_no_preemption_helps_gives_the_cycles_message()
    {
        var explanation = await Cycle().Explain(Pod("big", cpuMilli: 16 * Cpu));
        var result = await Cycle().Run(Pod("big", cpuMilli: 16 * Cpu));

        Assert.Null(explanation!.NominatedNode);
        Assert.Equal("0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.", explanation.FailureMessage);
        Assert.Equal(result.Message, explanation.FailureMessage);
    }

    [Fact]
    public async Task A_pod_created_again_under_a_held_name_is_scheduled_afresh_not_bound_to_the_deleted_pods_room()
    {
        // The view and the nodes still hold "p" as the pod deleted since (1 core on n0); the pod created again under its
        // name asks for n1 (spec.nodeName). The room held on n0 is not its own: taken as "already held", the pod would be
        // bound to n0 past the filters.
        var createdAt = new DateTimeOffset(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);
        var deleted = Pod("p", cpuMilli: Cpu, memoryBytes: Gi) with { CreatedAt = createdAt };
        Assert.True(_snapshot.TryBind(0, deleted, GpuAllocation.None));
        Assert.True(_authority.TryBind(0, deleted, GpuAllocation.None));
        var recreated = Pod("p", cpuMilli: Cpu, memoryBytes: Gi) with { CreatedAt = createdAt.AddSeconds(1), NodeName = "n1" };

        var result = await Cycle().Run(recreated);

        Assert.Equal(CycleVerdict.Bound, result.Verdict);
        var (pod, binding) = Assert.Single(_recorder.Bound);
        Assert.Equal("n1", binding.Node);
        Assert.Equal(recreated, pod);
        Assert.True(_snapshot.TryGetPodLocation("p", out var assumed, out _) && assumed == 1);
    }

    [Fact]
    public async Task A_late_cycle_of_a_deleted_pod_leaves_the_room_of_the_pod_created_again_under_its_name()
    {
        // "p" was deleted and created again; the new pod is bound on n0 (view and node). A cycle for the deleted pod still
        // runs (it was in flight, and loops after a refusal): the room held under the name is the newer pod's, so it ends
        // as a cycle for a deleted pod does (Gone), with nothing taken from the view, placed, or recorded on "p".
        var createdAt = new DateTimeOffset(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);
        var deleted = Pod("p", cpuMilli: Cpu, memoryBytes: Gi) with { CreatedAt = createdAt };
        var recreated = deleted with { CreatedAt = createdAt.AddSeconds(1) };
        Assert.True(_snapshot.TryBind(0, recreated, GpuAllocation.None));
        Assert.True(_authority.TryBind(0, recreated, GpuAllocation.None));

        var result = await Cycle().Run(deleted);

        Assert.Equal(CycleVerdict.Gone, result.Verdict);
        Assert.Empty(_recorder.Bound);
        Assert.Empty(_recorder.Unschedulable);
        Assert.Equal(0, _nodes.Reserves);
        Assert.Same(recreated, Assert.Single(_snapshot.PodsOn(0)).Pod);
        Assert.Same(recreated, Assert.Single(_authority.PodsOn(0)).Pod);
    }

    private sealed class PostBindCounter : IScorePlugin, IPostBindPlugin
    {
        public List<(string Pod, string Node)> Calls { get; } = [];
        public string Name => "PostBindCounter";
        public long Score(SchedulingContext context, int node) => 0;
        public void PostBind(SchedulingContext context, int node) => Calls.Add((context.Pod.Name, context.Cluster.NameOf(node)));
    }

    private sealed class FakeSnapshot(ClusterState cluster, string defaultPolicy) : IClusterSnapshotSource
    {
        public ValueTask<T> WithCluster<T>(Func<CycleSnapshot, T> step) => ValueTask.FromResult(step(new CycleSnapshot(cluster, defaultPolicy)));
    }

    /// <summary>The nodes' authority: idempotent for a pod it holds, refusing when told to.</summary>
    private sealed class FakeNodes(ClusterState authority) : INodeReservations
    {
        public Queue<string> Refusals { get; } = new();
        public bool RefuseUnknownHeld { get; set; }
        public int Reserves { get; private set; }
        public List<string> Released { get; } = [];
        public List<string> Nominated { get; } = [];

        /// <summary>How many of the next reservations land and then lose their answer (the call throws).</summary>
        public int LoseAnswers { get; set; }

        /// <summary>The node of each reservation asked for, in order.</summary>
        public List<string> Asked { get; } = [];

        public ValueTask<ReserveResult> Reserve(string node, PodSpec pod, GpuAllocation gpus)
        {
            var result = ReserveHere(node, pod, gpus);
            if (LoseAnswers == 0) return result;
            LoseAnswers--;
            throw new TimeoutException($"the answer of {node}'s reservation of {pod.Name} was lost");
        }

        private ValueTask<ReserveResult> ReserveHere(string node, PodSpec pod, GpuAllocation gpus)
        {
            Reserves++;
            Asked.Add(node);
            if (Refusals.TryDequeue(out var reason)) return ValueTask.FromResult(ReserveResult.Refused(reason));
            var index = authority.IndexOf(node);
            // Another pod of the name (deleted since) is no reservation of this one: the node frees it for a newer one.
            if (authority.TryGetPodLocation(pod.Name, out var other, out _)
                && !PodSpec.SameIncarnation(authority.PodsOn(other).Single(b => b.Pod.Name == pod.Name).Pod.CreatedAt, pod.CreatedAt))
                authority.Unbind(pod.Name);
            if (authority.TryGetPodLocation(pod.Name, out var held, out var heldGpus))
                return ValueTask.FromResult(held == index ? ReserveResult.Held(heldGpus) : ReserveResult.Refused("bound elsewhere"));
            if (RefuseUnknownHeld && Reserves == 1) return ValueTask.FromResult(ReserveResult.Refused("not held here"));
            return ValueTask.FromResult(authority.TryBind(index, pod, gpus) ? ReserveResult.Held(gpus) : ReserveResult.Refused("full"));
        }

        public ValueTask Release(string node, PodSpec pod)
        {
            Released.Add($"{node}/{pod.Name}");
            authority.Unbind(pod.Name);
            return ValueTask.CompletedTask;
        }

        /// <summary>The pods the node answers a preemptor's nomination with, each with its nomination's version: the lower holds, any silo's.</summary>
        public List<(PodSpec Pod, long Version)> HeldBelow { get; } = [];

        public ValueTask<IReadOnlyList<(PodSpec Pod, long Version)>> Nominate(string node, PodSpec preemptor, string failure)
        {
            Nominated.Add($"{node}/{preemptor.Name}");
            return ValueTask.FromResult<IReadOnlyList<(PodSpec, long)>>([.. HeldBelow]);
        }
    }

    private sealed class FakeRecorder(ClusterState authority) : IBindingRecorder, IPodEvictions
    {
        public bool Accept { get; set; } = true;
        public List<(PodSpec Pod, PodBinding Binding)> Bound { get; } = [];
        public List<(PodSpec Pod, string Message)> Unschedulable { get; } = [];
        /// <summary>The pods whose nomination a failed placement ended.</summary>
        public List<string> NominationCleared { get; } = [];
        /// <summary>"node/pod@version" of each pod whose nomination a preemptor of higher priority cleared there.</summary>
        public List<string> NominationsBelowCleared { get; } = [];
        public List<string> Evicted { get; } = [];

        ValueTask<bool> IBindingRecorder.Bound(PodSpec pod, PodBinding binding)
        {
            if (Accept) Bound.Add((pod, binding));
            return ValueTask.FromResult(Accept);
        }

        ValueTask IBindingRecorder.Unschedulable(PodSpec pod, string message, bool clearNomination)
        {
            Unschedulable.Add((pod, message));
            if (clearNomination) NominationCleared.Add(pod.Name);
            return ValueTask.CompletedTask;
        }

        ValueTask IBindingRecorder.NominationCleared(PodSpec pod, string node, long version)
        {
            NominationsBelowCleared.Add($"{node}/{pod.Name}@{version}");
            return ValueTask.CompletedTask;
        }

        /// <summary>Runs as an eviction is sent, before it lands (the victim deleted and created again meanwhile).</summary>
        public Action<PodSpec>? BeforeEvict { get; set; }

        public ValueTask Evict(string node, PodSpec victim, string message)
        {
            BeforeEvict?.Invoke(victim);
            // As the pod grain: another pod of the victim's name refuses.
            if (authority.TryGetPodLocation(victim.Name, out var held, out _)
                && !PodSpec.SameIncarnation(authority.PodsOn(held).Single(b => b.Pod.Name == victim.Name).Pod.CreatedAt, victim.CreatedAt))
                return ValueTask.CompletedTask;
            Evicted.Add(victim.Name);
            authority.Unbind(victim.Name);
            return ValueTask.CompletedTask;
        }
    }
}
