using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Scheduling.Tests;

/// <summary>How the paper policies pick among equal scores and which GPU device the Random baseline takes.</summary>
public class PaperSelectionTests
{
    private static readonly PolicyCatalog Catalog = PolicyCatalog.CreateDefault();

    [Fact]
    public void Paper_policies_break_score_ties_by_lowest_node_name_like_the_simulator()
    {
        // CPU-only pods score 0 everywhere under gpu-packing, so the tie-break alone decides: lowest name wins,
        // whatever the node order and the seed.
        var cluster = Fixtures.Cluster(Fixtures.Node("node-c", 32_000, 1), Fixtures.Node("node-a", 32_000, 1), Fixtures.Node("node-b", 32_000, 1));
        var scheduler = new ProfileScheduler(Catalog.Create("gpu-packing"));
        for (var seed = 0; seed < 20; seed++)
            Assert.Equal("node-a", scheduler.Schedule(cluster, Fixtures.Pod("cpu", 1000), new Random(seed)).NodeName);
    }

    [Fact]
    public void The_lowest_name_decides_only_among_the_nodes_with_the_best_score()
    {
        // best-fit prefers the least CPU left: node-y and node-z (8 of 32 cores used) tie above the empty node-a and
        // node-b, so node-y wins though node-a has the lowest name of all.
        var cluster = Fixtures.Cluster(Fixtures.Node("node-a", 32_000, 1), Fixtures.Node("node-z", 32_000, 1),
            Fixtures.Node("node-b", 32_000, 1), Fixtures.Node("node-y", 32_000, 1));
        Fixtures.Bind(cluster, 1, Fixtures.Pod("used-z", 8000));
        Fixtures.Bind(cluster, 3, Fixtures.Pod("used-y", 8000));
        var scheduler = new ProfileScheduler(Catalog.Create("best-fit"));
        for (var seed = 0; seed < 5; seed++)
            Assert.Equal("node-y", scheduler.Schedule(cluster, Fixtures.Pod("cpu", 1000), new Random(seed)).NodeName);
    }

    [Fact]
    public void Tiebreak_random_setting_spreads_ties_over_the_nodes()
    {
        var cluster = Fixtures.Cluster(Fixtures.Node("node-c", 32_000, 1), Fixtures.Node("node-a", 32_000, 1), Fixtures.Node("node-b", 32_000, 1));
        var options = new PolicyOptions { Settings = new Dictionary<string, string> { ["tiebreak"] = "random" } };
        var scheduler = new ProfileScheduler(Catalog.Create("gpu-packing", options));
        var chosen = Enumerable.Range(0, 60).Select(seed => scheduler.Schedule(cluster, Fixtures.Pod("cpu", 1000), new Random(seed)).NodeName).ToHashSet();
        Assert.Equal(3, chosen.Count);
        Assert.Throws<UserArgumentException>(() => Catalog.Create("gpu-packing", new PolicyOptions { Settings = new Dictionary<string, string> { ["tiebreak"] = "last" } }));
    }

    [Fact]
    public void Random_baseline_stays_random_under_the_lowest_name_tie_break()
    {
        var cluster = Fixtures.Cluster(Fixtures.Node("node-c", 32_000, 1), Fixtures.Node("node-a", 32_000, 1), Fixtures.Node("node-b", 32_000, 1));
        var profile = Catalog.Create("random");
        Assert.Equal(HostTieBreak.LowestName, profile.TieBreak);
        var scheduler = new ProfileScheduler(profile);
        var chosen = Enumerable.Range(0, 60).Select(seed => scheduler.Schedule(cluster, Fixtures.Pod("cpu", 1000), new Random(seed)).NodeName).ToHashSet();
        Assert.Equal(3, chosen.Count);
    }

    [Fact]
    public void Random_baseline_puts_shared_pods_on_a_random_fitting_device()
    {
        // Devices left [1000, 200, 1000, 1000]: a 500m pod fits devices 0, 2, 3; best-fit would always take 0.
        var cluster = Fixtures.Cluster(Fixtures.Node("n0", 32_000, 4));
        Fixtures.Bind(cluster, 0, Fixtures.Pod("used", 1000, 800), 1);
        var pod = Fixtures.Pod("p", 1000, 500);
        Assert.IsType<RandomDeviceSelector>(Catalog.Create("random").DeviceSelector);
        var devices = Enumerable.Range(0, 60).Select(seed => RandomDeviceSelector.Instance.Select(cluster, 0, pod, new Random(seed)).Devices.Single()).ToHashSet();
        Assert.Equal([0, 2, 3], devices.Order());
        // Whole GPUs: the lowest-numbered fully free devices, never the partly used one.
        Assert.Equal([0, 2], RandomDeviceSelector.Instance.Select(cluster, 0, Fixtures.Pod("w", 1000, 2000), new Random(1)).Devices.Order());
        Assert.IsType<BestFitDeviceSelector>(Catalog.Create("gpu-packing").DeviceSelector);
    }

    [Fact]
    public void Best_fit_takes_seed_001_weighting_as_an_option()
    {
        // Same cpu and GPU free, different memory: the paper's BestFit ignores memory (tie -> lowest name "a-big"),
        // seed 001's weighting counts it (lowest weighted free capacity -> "b-small").
        var cluster = Fixtures.Cluster(
            Fixtures.Node("a-big", 32_000, 2) with { Capacity = Scheduling.Resources.ResourceVector.Of(cpuMilli: 32_000, memoryBytes: 512 * Fixtures.Gi, gpuMilli: 2000) },
            Fixtures.Node("b-small", 32_000, 2) with { Capacity = Scheduling.Resources.ResourceVector.Of(cpuMilli: 32_000, memoryBytes: 64 * Fixtures.Gi, gpuMilli: 2000) });
        var pod = Fixtures.Pod("p", 4000, 1000);
        var seed001 = new PolicyOptions { Settings = new Dictionary<string, string> { ["bestFitWeighting"] = "seed001" } };
        Assert.IsType<Scheduling.Plugins.Seed.WeightedFreeCapacityScore>(Catalog.Create("best-fit", seed001).Scores.Single().Plugin);
        Assert.Equal("a-big", new ProfileScheduler(Catalog.Create("best-fit")).Schedule(cluster, pod, new Random(1)).NodeName);
        Assert.Equal("b-small", new ProfileScheduler(Catalog.Create("best-fit", seed001)).Schedule(cluster, pod, new Random(1)).NodeName);
        Assert.Throws<UserArgumentException>(() => Catalog.Create("best-fit", new PolicyOptions { Settings = new Dictionary<string, string> { ["bestFitWeighting"] = "other" } }));
    }
}
