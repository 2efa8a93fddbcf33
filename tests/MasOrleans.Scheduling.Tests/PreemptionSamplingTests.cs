using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Preemption;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// Which nodes preemption dry-runs. kube-scheduler v1.35 does not try every potential node: findCandidates takes an
/// offset and a number of candidates from GetOffsetAndNumCandidates (plugins/defaultpreemption/default_preemption.go: a
/// random offset in [0, n), calculateNumCandidates = min(n, max(n * MinCandidateNodesPercentage / 100,
/// MinCandidateNodesAbsolute)), n the potential nodes, defaults 10 and 100 in pkg/scheduler/apis/config/v1/defaults.go),
/// and DryRunPreemption (pkg/scheduler/framework/preemption/preemption.go) walks potentialNodes[(offset + i) % n] until it
/// holds that many candidates. Here the offset comes from the cycle's seeded random source, so a seed repeats a decision.
/// </summary>
public sealed class PreemptionSamplingTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(100, 100)]
    [InlineData(150, 100)]
    [InlineData(1001, 100)] // 1001 * 10 / 100 = 100 in integers
    [InlineData(1010, 101)]
    [InlineData(5000, 500)]
    public void The_number_of_candidates_is_kubes(int potentialNodes, int expected) =>
        Assert.Equal(expected, DefaultPreemption.NumCandidates(potentialNodes));

    /// <summary>
    /// Up to 100 potential nodes every one is tried, whatever the seed: the ladder's node 0 (its victim has the lowest
    /// priority, pickOneNodeForPreemption's second criterion) is always found.
    /// </summary>
    [Fact]
    public void Up_to_100_potential_nodes_every_node_is_tried()
    {
        foreach (var seed in Seeds)
            Assert.Equal(0, Kube.Preempt(Ladder(100), Preemptor, new Random(seed))!.Node);
    }

    /// <summary>
    /// 150 potential nodes, all candidates: 100 are tried, nodes o .. o+99 (mod 150) for the offset o. The lowest victim
    /// priority in that window is node o when o ≤ 50, else node 0 (the window wraps past node 149). Trying every node
    /// would always give node 0; a seed gives the same node and victims again. Cordoned nodes are no potential nodes (their
    /// rejection is unresolvable), so 1,850 of them change nothing: n is 150, not the 2,000 nodes of the cluster (which
    /// would make 200 candidates, all 150).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1850)]
    public void Beyond_100_potential_nodes_100_from_a_seeded_offset_are_tried(int cordoned)
    {
        var chosen = Seeds.Select(seed => Kube.Preempt(Ladder(150, cordoned), Preemptor, new Random(seed))!).ToList();

        Assert.All(chosen, c => Assert.InRange(c.Node, 0, 50));
        Assert.Contains(chosen, c => c.Node != 0);
        foreach (var (seed, c) in Seeds.Zip(chosen))
        {
            var again = Kube.Preempt(Ladder(150, cordoned), Preemptor, new Random(seed))!;
            Assert.Equal((c.NodeName, c.Victims.Single().Pod.Name), (again.NodeName, again.Victims.Single().Pod.Name));
        }
    }

    /// <summary>
    /// The walk stops at 100 CANDIDATES, not 100 nodes tried: 300 potential nodes where only the even ones have a victim
    /// (an odd one holds a pod of the preemptor's priority: "No preemption victims found"). From offset o the walk covers
    /// about 200 nodes to find 100 even ones: node 0 is among them when o ≥ 101, else the first even node from o is the
    /// lowest. So the choice is an even node of at most 100. Stopping after 100 nodes tried would pick an even node above
    /// 100 for any offset in 101 .. 199.
    /// </summary>
    [Fact]
    public void The_walk_stops_once_it_holds_enough_candidates_not_after_as_many_nodes()
    {
        foreach (var seed in Seeds)
        {
            var chosen = Kube.Preempt(Ladder(300, victimOn: n => n % 2 == 0), Preemptor, new Random(seed))!;
            Assert.Equal(0, chosen.Node % 2);
            Assert.InRange(chosen.Node, 0, 100);
        }
    }

    /// <summary>With no candidate the walk never stops early: every potential node has its verdict in the message.</summary>
    [Fact]
    public void Without_a_candidate_every_potential_node_is_tried()
    {
        var outcome = Kube.Evaluate(Ladder(150, victimOn: _ => false), Preemptor, new Random(1));

        Assert.Null(outcome.Chosen);
        Assert.Equal("preemption: 0/150 nodes are available: 150 No preemption victims found for incoming pod.", outcome.FailureMessage);
    }

    private static readonly int[] Seeds = [.. Enumerable.Range(0, 20)];
    private static readonly DefaultPreemption Kube = new(PolicyCatalog.CreateDefault().Create("kube"));
    private static readonly PodSpec Preemptor = TestCluster.Pod("preemptor", cpuMilli: 4000) with { Priority = 10_000 };

    /// <summary>
    /// <paramref name="nodes"/> full 4000m nodes, node i holding one 4000m pod of priority i (a victim) or, where
    /// <paramref name="victimOn"/> says no, of the preemptor's priority; then <paramref name="cordoned"/> empty cordoned nodes.
    /// </summary>
    private static ClusterState Ladder(int nodes, int cordoned = 0, Func<int, bool>? victimOn = null)
    {
        var cluster = new ClusterState();
        for (var i = 0; i < nodes; i++)
        {
            var node = cluster.AddNode(TestCluster.Node($"n{i:D4}", 4000, 64 * TestCluster.Gi));
            var priority = victimOn?.Invoke(i) is false ? Preemptor.Priority : i;
            Assert.True(cluster.TryBind(node, TestCluster.Pod($"p{i:D4}", cpuMilli: 4000) with { Priority = priority }, GpuAllocation.None));
        }
        for (var i = 0; i < cordoned; i++) cluster.AddNode(TestCluster.Node($"c{i:D4}", 4000, 64 * TestCluster.Gi, unschedulable: true));
        return cluster;
    }
}
