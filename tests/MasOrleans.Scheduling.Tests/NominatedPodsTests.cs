using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Preemption;
using static MasOrleans.Scheduling.Tests.PreemptionTests;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// Pods nominated to a node count there for pods of lower or equal priority, in the filter pass and in preemption's
/// victim selection alike: kube's RunFilterPluginsWithNominatedPods and addGENominatedPods
/// (pkg/scheduler/framework/runtime/framework.go), called by findNodesThatPassFilters (pkg/scheduler/schedule_one.go) and
/// by SelectVictimsOnNode (pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go). addGENominatedPods
/// adds a nominated pod when `PodPriority(nominated) >= PodPriority(pod) && nominated.UID != pod.UID`.
/// </summary>
public sealed class NominatedPodsTests
{
    private static readonly SchedulingProfile Kube = PolicyCatalog.CreateDefault().Create("kube");

    /// <summary>
    /// n1 (4000m) is empty but "nominee" (3000m, priority 10) is nominated there; n2 (4000m) holds 1000m. Counted on n1,
    /// the nominee leaves 1000m there for a pod of priority 10 or less; a pod of higher priority, or the nominee itself,
    /// sees n1 empty. n2 has 3000m free for anyone.
    /// </summary>
    /// <param name="pending">name:cpuMilli:priority</param>
    /// <param name="feasible">the nodes that pass, or the FitError when none does</param>
    [Theory]
    // 2000m > 1000m left beside the nominee: n1 is rejected and the pod goes to n2 (n1, empty, would score higher).
    [InlineData("low:2000:5", "n2")]
    // Equal priority yields too ("equal or higher").
    [InlineData("equal:2000:10", "n2")]
    // A higher priority does not count the nominee.
    [InlineData("higher:2000:11", "n1,n2")]
    // 1000m fits beside the nominee.
    [InlineData("small:1000:5", "n1,n2")]
    // The nominee is not counted against itself (nominated.UID != pod.UID).
    [InlineData("nominee:3000:10", "n1,n2")]
    // Nowhere: n1 with the nominee (3000 + 3500 > 4000), n2 (1000 + 3500 > 4000). Without it n1 would fit.
    [InlineData("big:3500:5", "0/2 nodes are available: 2 Insufficient cpu.")]
    public void A_pod_does_not_take_room_held_for_a_nominated_pod_of_equal_or_higher_priority(string pending, string feasible)
    {
        var f = pending.Split(':');
        var pod = TestCluster.Pod(f[0], cpuMilli: long.Parse(f[1])) with { Priority = int.Parse(f[2]) };
        foreach (var fastPaths in new[] { true, false })
        {
            var cluster = PreemptionTests.Cluster("n1:4000:0,n2:4000:0", "x@n2:1000:0");
            cluster.Nominate(cluster.IndexOf("n1"), TestCluster.Pod("nominee", cpuMilli: 3000) with { Priority = 10 });
            var before = Snapshot(cluster);
            var scheduler = new ProfileScheduler(Kube, fastPaths);

            var result = scheduler.Schedule(cluster, pod, new Random(1));
            var explanation = scheduler.Explain(cluster, pod, new Random(1));

            if (feasible.StartsWith("0/", StringComparison.Ordinal))
            {
                Assert.False(result.Success);
                Assert.Equal(feasible, result.FailureMessage);
                Assert.Equal(feasible, explanation.FailureMessage);
            }
            else
            {
                var nodes = feasible.Split(',');
                Assert.Equal(nodes.Length, result.FeasibleNodes);
                Assert.Contains(result.NodeName, nodes);
                Assert.Equal(nodes, explanation.Nodes.Where(n => n.Feasible).Select(n => n.Node));
            }
            // The nominee was counted for the verdicts only: the cluster and its nominations are as they were.
            Assert.Equal(before, Snapshot(cluster));
            Assert.Equal("n1", cluster.NominatedNodeOf("nominee"));
            Assert.False(cluster.TryGetPodLocation("nominee", out _, out _));
        }
    }

    /// <summary>
    /// GPU shares: n1's device 0 has 500m free (x holds 500m), device 1 1000m. The nominee's 600m share is counted on the
    /// device with the least room that takes it, device 1 (400m left), as the node grain holds it
    /// (ClusterState.FitsAlongside). A 500m share of lower priority still fits on device 0; a 600m share fits on no one
    /// device (500m, 400m). Counted on device 0 instead (over-committed), device 1 would wrongly take the 600m share.
    /// </summary>
    [Theory]
    [InlineData(500, true)]
    [InlineData(600, false)]
    public void A_nominated_GPU_share_is_counted_on_the_device_it_would_take(long gpuMilli, bool fits)
    {
        var cluster = PreemptionTests.Cluster("n1:8000:2", "x@n1:1000:0:500@0");
        cluster.Nominate(0, TestCluster.Pod("nominee", cpuMilli: 1000, gpuMilli: 600) with { Priority = 10 });

        var result = new ProfileScheduler(Kube).Schedule(cluster, TestCluster.Pod("low", cpuMilli: 1000, gpuMilli: gpuMilli) with { Priority = 5 }, new Random(1));

        Assert.Equal(fits, result.Success);
        if (!fits) Assert.Equal("0/1 nodes are available: 1 node(s) had no GPU device with enough free share.", result.FailureMessage);
        Assert.Equal(new[] { 500, 1000 }, cluster.GpuFreeOf(0).ToArray());
    }

    /// <summary>
    /// The pod's devices are chosen with the nominee counted too, as the node grain holds its room: device 0 has 500m
    /// free, device 1 1000m; the nominee's 600m share is counted on device 1 (the only one that takes it), leaving 400m
    /// there, so a 500m share of lower priority goes to device 0. Worst-fit (the most free) and random (any that fits)
    /// chose device 1 on the cluster without the nominee, which the node refuses ("room is held for nominated pod") on
    /// every retry; the node's rule (ClusterState.FitsAlongside) holds the nominee beside device 0 only.
    /// </summary>
    [Theory]
    [InlineData("worst")]
    [InlineData("random")]
    public void A_GPU_share_is_given_a_device_the_nominee_does_not_need(string gpusel)
    {
        var profile = PolicyCatalog.CreateDefault().Create("best-fit", new PolicyOptions { Settings = new Dictionary<string, string> { ["gpusel"] = gpusel } });
        var nominee = TestCluster.Pod("nominee", cpuMilli: 1000, gpuMilli: 600) with { Priority = 10 };
        var low = TestCluster.Pod("low", cpuMilli: 1000, gpuMilli: 500) with { Priority = 5 };
        // Random draws among the fitting devices: seeds enough that device 1 would come up without the nominee counted.
        for (var seed = 0; seed < 8; seed++)
        {
            var cluster = PreemptionTests.Cluster("n1:8000:2", "x@n1:1000:0:500@0");
            cluster.Nominate(0, nominee);

            var result = new ProfileScheduler(profile).Schedule(cluster, low, new Random(seed));
            var explanation = new ProfileScheduler(profile).Explain(cluster, low, new Random(seed));

            Assert.Equal([0], result.Gpus.Devices);
            Assert.Equal([0], explanation.Gpus.Devices);
            Assert.True(cluster.FitsAlongside(0, [nominee], low, result.Gpus));
            Assert.Equal(new[] { 500, 1000 }, cluster.GpuFreeOf(0).ToArray());
            Assert.Equal("n1", cluster.NominatedNodeOf("nominee"));
        }
    }

    /// <summary>
    /// Explain shows the filter pass that rejected the node: NodeResourcesFit's "Insufficient cpu" on n1, counted with the
    /// nominee there, where without it every filter passes.
    /// </summary>
    [Fact]
    public void Explain_shows_the_rejection_with_the_nominated_pods_counted()
    {
        var cluster = PreemptionTests.Cluster("n1:4000:0,n2:4000:0", "x@n2:1000:0");
        cluster.Nominate(0, TestCluster.Pod("nominee", cpuMilli: 3000) with { Priority = 10 });

        var explanation = new ProfileScheduler(Kube).Explain(cluster, TestCluster.Pod("low", cpuMilli: 2000) with { Priority = 5 }, new Random(1));

        var n1 = explanation.Nodes.Single(n => n.Node == "n1");
        Assert.False(n1.Feasible);
        Assert.Equal([("NodeResourcesFit", "Insufficient cpu")], n1.Filters.Where(v => !v.Passed).Select(v => (v.Plugin, v.Reason!)));
    }

    /// <summary>
    /// n1 (8000m) is full with a, b, c, d (2000m each, priority 1, bound in that order); "first" (2000m) is nominated
    /// there. The preemptor (2000m, priority 10) removes all four, then puts them back most important first (equal
    /// priorities: bind order), keeping each whose return still lets it pass the filters WITH the nominated pods of
    /// equal or higher priority counted (SelectVictimsOnNode's reprievePod runs RunFilterPluginsWithNominatedPods).
    /// Counted (priority 10 or 20): a back 2000 + first 2000 + preemptor 2000 = 6000, kept; b back 8000, kept; c back
    /// 10000 > 8000, victim; d likewise: both c and d go, to make room for both pods. Not counted (priority 5, or the
    /// preemptor's own nomination): a, b, c kept (8000), d the only victim.
    /// </summary>
    [Theory]
    [InlineData("first", 10, "n1:c,d")]
    [InlineData("first", 20, "n1:c,d")]
    [InlineData("first", 5, "n1:d")]
    [InlineData("preemptor", 10, "n1:d")]
    public void Victim_selection_frees_room_for_the_nominated_pods_of_equal_or_higher_priority_too(string nominated, int priority, string expected)
    {
        var cluster = PreemptionTests.Cluster("n1:8000:0", "a@n1:2000:1,b@n1:2000:1,c@n1:2000:1,d@n1:2000:1");
        cluster.Nominate(0, TestCluster.Pod(nominated, cpuMilli: 2000) with { Priority = priority });
        var before = Snapshot(cluster);

        var chosen = new DefaultPreemption(Kube).Preempt(cluster, Preemptor("2000:10"), new Random(1));

        Assert.NotNull(chosen);
        Assert.Equal(expected, $"{chosen.NodeName}:{string.Join(",", chosen.Victims.Select(v => v.Pod.Name).Order())}");
        Assert.Equal(before, Snapshot(cluster));
    }

    /// <summary>
    /// A node whose room goes to a nominated pod of equal priority even with every lower-priority pod gone is no candidate:
    /// n1 (4000m) holds a (2000m, priority 1); "first" (3000m, priority 10) is nominated there. Without a, the first pass
    /// has 3000 + 2000 > 4000: kube's SelectVictimsOnNode returns that status ("Insufficient cpu"), and the dry run's
    /// FitError counts it.
    /// </summary>
    [Fact]
    public void A_node_that_cannot_hold_both_the_nominee_and_the_preemptor_is_no_candidate()
    {
        var cluster = PreemptionTests.Cluster("n1:4000:0", "a@n1:2000:1");
        cluster.Nominate(0, TestCluster.Pod("first", cpuMilli: 3000) with { Priority = 10 });

        var outcome = new DefaultPreemption(Kube).Evaluate(cluster, Preemptor("2000:10"), new Random(1));

        Assert.Null(outcome.Chosen);
        Assert.Equal("preemption: 0/1 nodes are available: 1 Insufficient cpu.", outcome.FailureMessage);
    }

    /// <summary>
    /// Nominations are rare; the calls every cycle and every confirmed bind make must cost nothing without one. With
    /// nothing nominated, forgetting a pod's nomination (each failed cycle, each deletion), a shard's, and confirming a
    /// bound pod with its bind time and unchanged labels (a Dictionary, as labels arrive) allocate no byte. Before, the
    /// first two allocated a closure per call and the label comparison a boxed enumerator.
    /// </summary>
    [Fact]
    public void Without_nominations_forgetting_and_confirming_allocate_nothing()
    {
        var cluster = new ClusterState();
        cluster.AddNode(TestCluster.Node("n1", 4000, 64 * TestCluster.Gi, 0));
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var bound = TestCluster.Pod("web", cpuMilli: 1000) with { Labels = labels };
        var boundAt = DateTimeOffset.UnixEpoch;
        Assert.True(cluster.TryBind(0, bound, GpuAllocation.None, boundAt));
        // As a node's record reaches a view: the same pod, labels in a dictionary of their own.
        var confirmed = new BoundPod(bound with { Labels = new Dictionary<string, string> { ["app"] = "web" } }, GpuAllocation.None, boundAt);
        void Calls()
        {
            cluster.ForgetNomination("web");
            cluster.ForgetNominations(static _ => true);
            cluster.Confirm(confirmed);
        }
        Calls();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) Calls();

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.False(cluster.Confirm(confirmed));
        Assert.True(cluster.Confirm(confirmed with { Pod = bound with { Labels = new Dictionary<string, string> { ["app"] = "db" } } }));
    }

    /// <summary>A pod bound is nominated nowhere (kube's assume calls DeleteNominatedPodIfExists); a bound pod is not nominated.</summary>
    [Fact]
    public void Binding_ends_a_nomination_and_a_bound_pod_is_not_nominated()
    {
        var cluster = PreemptionTests.Cluster("n1:4000:0,n2:4000:0", "x@n2:1000:0");
        var nominee = TestCluster.Pod("nominee", cpuMilli: 3000) with { Priority = 10 };
        cluster.Nominate(0, nominee);

        Assert.True(cluster.TryBind(0, nominee, GpuAllocation.None));
        Assert.Null(cluster.NominatedNodeOf("nominee"));
        cluster.Nominate(1, nominee);
        Assert.Null(cluster.NominatedNodeOf("nominee"));
    }
}
