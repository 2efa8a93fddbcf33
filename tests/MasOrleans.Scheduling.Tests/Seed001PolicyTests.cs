using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

public class Seed001PolicyTests
{
    private static readonly PolicyCatalog Catalog = PolicyCatalog.CreateDefault();

    /// <summary>
    /// Node loads (cpu of 10 cores, memory of 10 GiB): n0 idle, n1 40%/40%, n2 70%/70%, n3 90%/50%.
    /// A 1-core / 1-GiB pod fits everywhere.
    /// </summary>
    private static Cluster.ClusterState Loaded()
    {
        var cluster = Of(Node("n0", 10000, 10 * Gi), Node("n1", 10000, 10 * Gi), Node("n2", 10000, 10 * Gi), Node("n3", 10000, 10 * Gi));
        Assert.True(cluster.TryBind(1, Pod("l1", 4000, 4 * Gi), GpuAllocation.None));
        Assert.True(cluster.TryBind(2, Pod("l2", 7000, 7 * Gi), GpuAllocation.None));
        Assert.True(cluster.TryBind(3, Pod("l3", 9000, 5 * Gi), GpuAllocation.None));
        return cluster;
    }

    private static string? Choose(string policy, Cluster.ClusterState cluster) =>
        new ProfileScheduler(Catalog.Create(policy)).Schedule(cluster, Pod("p", 1000, 1 * Gi), new Random(5)).NodeName;

    [Theory]
    [InlineData("first-fit", "n0")]
    // Weighted free: n0 10 + 5 = 15, n1 6 + 3 = 9, n2 3 + 1.5 = 4.5, n3 1 + 2.5 = 3.5 -> worst-fit n0.
    [InlineData("worst-fit", "n0")]
    // Mean utilization 0, .4, .7, .7 -> load-balanced n0; energy-aware ties n2/n3 at .7: exact ties both score 100.
    [InlineData("load-balanced", "n0")]
    // |c - .7| + .5 |m - .7|: n0 .7 + .35 = 1.05, n1 .3 + .15 = .45, n2 0, n3 .2 + .1 = .3 -> n2.
    [InlineData("priority", "n2")]
    public void Seed_strategies_match_the_seed_formulas(string policy, string expected) => Assert.Equal(expected, Choose(policy, Loaded()));

    /// <summary>
    /// Seven nodes of 10 cores / 10 GiB, loaded (cores used, GiB used) so that each strategy's formula has a
    /// different unique winner for a 1-core / 1-GiB pod (every node has room for it). Per node, by hand:
    /// <code>
    /// node load   c+.5m  c+m  |c-.7|+.5|m-.7|
    /// n0   4,4    6      8    .30+.15=.45
    /// n1   5,5    7.5    10   .20+.10=.30
    /// n2   0,5    2.5    5    .70+.10=.80   worst-fit: most weighted free = least c+.5m
    /// n3   2,2    3      4    .50+.25=.75   load-balanced: lowest mean utilization (c+m)/2
    /// n4   9,5    11.5   14   .20+.10=.30   best-fit (seed weighting): least weighted free = most c+.5m
    /// n5   6,9    10.5   15   .10+.10=.20   energy-aware: highest mean utilization
    /// n6   7,7    10.5   14   0             priority: closest to 70%
    /// </code>
    /// Weighted free = free cores + 0.5 x free GiB = 15 - (c + .5m), so its order is c+.5m reversed.
    /// first-fit takes n0 (first in node order); round-robin's first pick is n0 too, its second the next node, n1.
    /// </summary>
    private static Cluster.ClusterState SevenWays()
    {
        (int Cores, int GiB)[] loads = [(4, 4), (5, 5), (0, 5), (2, 2), (9, 5), (6, 9), (7, 7)];
        var cluster = Of(loads.Select((_, i) => Node($"n{i}", 10000, 10 * Gi)).ToArray());
        for (var i = 0; i < loads.Length; i++)
            Assert.True(cluster.TryBind(i, Pod($"load{i}", loads[i].Cores * 1000L, loads[i].GiB * Gi), GpuAllocation.None));
        return cluster;
    }

    [Theory]
    [InlineData("first-fit", "n0")]
    [InlineData("worst-fit", "n2")]
    [InlineData("load-balanced", "n3")]
    [InlineData("energy-aware", "n5")]
    [InlineData("priority", "n6")]
    public void Each_seed_strategy_picks_its_own_node(string policy, string expected) => Assert.Equal(expected, Choose(policy, SevenWays()));

    [Fact]
    public void Seed_best_fit_weighting_picks_its_own_node()
    {
        var options = new PolicyOptions { Settings = new Dictionary<string, string> { ["bestFitWeighting"] = "seed001" } };
        var chosen = new ProfileScheduler(Catalog.Create("best-fit", options)).Schedule(SevenWays(), Pod("p", 1000, 1 * Gi), new Random(5)).NodeName;
        Assert.Equal("n4", chosen);
    }

    [Fact]
    public void Round_robin_moves_on_from_the_node_first_fit_keeps()
    {
        var cluster = SevenWays();
        var scheduler = new ProfileScheduler(Catalog.Create("round-robin"));
        var random = new Random(5);
        Assert.Equal(new string?[] { "n0", "n1" }, new[] { scheduler.Schedule(cluster, Pod("p", 1000, 1 * Gi), random).NodeName, scheduler.Schedule(cluster, Pod("q", 1000, 1 * Gi), random).NodeName });
    }

    [Fact]
    public void Energy_aware_consolidates_onto_the_busiest_node()
    {
        var chosen = Choose("energy-aware", Loaded());
        Assert.Contains(chosen, new[] { "n2", "n3" });
    }

    [Fact]
    public void Best_fit_weighting_prefers_the_tightest_node()
    {
        var cluster = Loaded();
        var profile = new SchedulingProfile
        {
            Name = "best-fit-seed",
            Filters = FilterSets.Create(FilterSets.Kube),
            Scores = [new(new Plugins.Seed.WeightedFreeCapacityScore(Plugins.Seed.Preference.Lowest), 1)],
            DeviceSelector = Plugins.Devices.BestFitDeviceSelector.Instance,
            PercentageOfNodesToScore = 100,
        };
        Assert.Equal("n3", new ProfileScheduler(profile).Schedule(cluster, Pod("p", 1000, 1 * Gi), new Random(1)).NodeName);
    }

    [Fact]
    public void Round_robin_cycles_over_feasible_nodes()
    {
        var cluster = Of(Node("a", 4000, 4 * Gi), Node("b", 4000, 4 * Gi), Node("full", 100, 4 * Gi), Node("c", 4000, 4 * Gi));
        var scheduler = new ProfileScheduler(Catalog.Create("round-robin"));
        var random = new Random(1);
        var picks = Enumerable.Range(0, 5).Select(i => scheduler.Schedule(cluster, Pod($"p{i}", 500), random).NodeName).ToArray();
        Assert.Equal(new string?[] { "a", "b", "c", "a", "b" }, picks);
    }
}
