using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// The FGD simulator renames its nodes with a seeded random prefix (pkg/simulator/simulator.go,
/// syncClusterResourceList, hkust-adsl/kubernetes-scheduler-simulator) and its patched selectHost
/// (vendor/k8s.io/kubernetes/pkg/scheduler/core/generic_scheduler.go) gives a tie to the smallest name.
/// </summary>
public class SimulatorTieBreakTests
{
    private static readonly PolicyCatalog Catalog = PolicyCatalog.CreateDefault();

    /// <summary>Returns scripted values from Next(max), so a shuffle can be followed by hand.</summary>
    private sealed class ScriptedRandom(params int[] draws) : Random
    {
        private int _next;
        public override int Next(int maxValue)
        {
            var v = draws[_next++];
            Assert.InRange(v, 0, maxValue - 1);
            return v;
        }
    }

    [Fact]
    public void Renaming_follows_the_simulators_sort_then_perm_by_hand()
    {
        // Sorted: a, b, c. Go's rand.Perm(3) inside-out with draws j = 0, 0, 1:
        // i=0: m=[0]; i=1, j=0: m[1]=m[0]=0, m[0]=1 -> [1,0]; i=2, j=1: m[2]=m[1]=0, m[1]=2 -> [1,2,0].
        // So a -> "0001-a", b -> "0002-b", c -> "0000-c"; input order is c, a, b.
        Assert.Equal(["0000-c", "0001-a", "0002-b"], SimulatorNodeNames.Rename(["c", "a", "b"], new ScriptedRandom(0, 0, 1)));
        // Byte order of the new names: c (0000) first, then a, then b.
        Assert.Equal([0, 1, 2], SimulatorNodeNames.TieBreakRank(["c", "a", "b"], new ScriptedRandom(0, 0, 1)));
        Assert.Equal([1, 2, 0], SimulatorNodeNames.TieBreakRank(["a", "b", "c"], new ScriptedRandom(0, 0, 1)));
    }

    [Fact]
    public void The_node_order_is_a_permutation_reproducible_per_seed_and_changing_with_it()
    {
        var names = Enumerable.Range(0, 50).Select(i => $"node-{i:D3}").ToArray();
        var bySeed = Enumerable.Range(42, 10).Select(seed => SimulatorNodeNames.TieBreakRank(names, new Random(seed))).ToArray();
        foreach (var rank in bySeed) Assert.Equal(Enumerable.Range(0, 50), rank.Order());
        Assert.Equal(bySeed[0], SimulatorNodeNames.TieBreakRank(names, new Random(42)));
        // Ten seeds over 50 nodes: the tie winner (rank 0) is not one fixed node, unlike the raw-name order.
        Assert.True(bySeed.Select(r => Array.IndexOf(r, 0)).Distinct().Count() >= 5);
    }

    [Fact]
    public void Ties_go_to_the_lowest_renamed_node_not_the_lowest_raw_name()
    {
        // gpu-packing scores every node 0 for a CPU-only pod: the tie-break alone decides.
        var cluster = TestCluster.Of(TestCluster.Node("node-a", 32_000, 64 * TestCluster.Gi, 1),
            TestCluster.Node("node-b", 32_000, 64 * TestCluster.Gi, 1), TestCluster.Node("node-c", 32_000, 64 * TestCluster.Gi, 1));
        var scheduler = new ProfileScheduler(Catalog.Create("gpu-packing"));
        var pod = TestCluster.Pod("cpu", 1000, TestCluster.Gi);
        Assert.Equal("node-a", scheduler.Schedule(cluster, pod, new Random(1)).NodeName);
        cluster.SetTieBreakRank([2, 0, 1]);
        Assert.Equal("node-b", scheduler.Schedule(cluster, pod, new Random(1)).NodeName);
        // A higher score still beats a lower rank: a GPU pod prefers the partly used GPU on node-c.
        Assert.True(cluster.TryBind(2, TestCluster.Pod("half", 1000, TestCluster.Gi, 500), new GpuAllocation([0], 500)));
        Assert.Equal("node-c", scheduler.Schedule(cluster, TestCluster.Pod("g", 1000, TestCluster.Gi, 500), new Random(1)).NodeName);
        // A node set that changes drops the order (it would no longer name every node).
        cluster.AddNode(TestCluster.Node("node-0", 32_000, 64 * TestCluster.Gi, 1));
        Assert.Null(cluster.TieBreakRank);
        Assert.Throws<ArgumentException>(() => cluster.SetTieBreakRank([0, 1, 2]));
    }

    [Theory]
    [InlineData(42)]
    [InlineData(43)]
    public void Paper_replay_puts_cpu_only_pods_on_the_seeds_first_renamed_node(int seed)
    {
        var nodes = Enumerable.Range(0, 6).Select(i => TestCluster.Node($"node-{i}", 256_000, 512 * TestCluster.Gi, 1)).ToArray();
        var trace = new[] { TestCluster.Pod("gpu", 1000, TestCluster.Gi, 1000), TestCluster.Pod("cpu-0", 1000, TestCluster.Gi), TestCluster.Pod("cpu-1", 1000, TestCluster.Gi) };
        var cluster = ClusterState.Of(nodes);
        var context = new ReplayContext(cluster, new PolicySchedulers(Catalog, new PolicyOptions { TypicalPods = [] }), new FragmentationModel([]), "gpu-packing", seed, null);
        PaperReplay.Run(context, trace, new ReplaySettings { Tune = 1.0 });

        // Same stream as the replay: arrivals first, then the renaming (as pkg/simulator/core.go orders them).
        var random = new Random(seed);
        PaperArrivals.Build(trace, 6000, 1.0, random);
        var rank = SimulatorNodeNames.TieBreakRank(nodes.Select(n => n.Name).ToList(), random);
        Assert.Equal(rank, cluster.TieBreakRank);
        var first = Array.IndexOf(rank, 0);
        var cpuPods = Enumerable.Range(0, 6).SelectMany(n => cluster.Pods[n].Select(p => (Node: n, p.Pod))).Where(x => x.Pod.Gpu.IsNone).ToList();
        Assert.NotEmpty(cpuPods);
        // Every CPU-only pod ties everywhere under gpu-packing and lands on the rank-0 node, whatever its raw name.
        Assert.All(cpuPods, x => Assert.Equal(first, x.Node));
    }

    [Fact]
    public void Kube_decisions_do_not_depend_on_the_renamed_order()
    {
        // kube breaks ties at random (reservoir sampling), so the renamed order must not change any decision.
        var nodes = Enumerable.Range(0, 8).Select(i => TestCluster.Node($"node-{i}", 8_000, 16 * TestCluster.Gi)).ToArray();
        var pods = Enumerable.Range(0, 40).Select(i => TestCluster.Pod($"p{i}", 100 * (1 + i % 3), (1 + i % 2) * 256 * TestCluster.Mi)).ToArray();
        string[] Run(bool renamed)
        {
            var cluster = TestCluster.Of(nodes);
            if (renamed) cluster.SetTieBreakRank(SimulatorNodeNames.TieBreakRank(nodes.Select(n => n.Name).ToList(), new Random(7)));
            var scheduler = new ProfileScheduler(Catalog.Create("kube"));
            var random = new Random(11);
            return pods.Select(p =>
            {
                var r = scheduler.Schedule(cluster, p, random);
                Assert.True(cluster.TryBind(r.Node, p, r.Gpus));
                return r.NodeName!;
            }).ToArray();
        }
        Assert.Equal(Run(renamed: false), Run(renamed: true));
    }
}
