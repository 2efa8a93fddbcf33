using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Cli.Tests;

public class PaperPolicyScoreTests
{
    private static long Score(IScorePlugin plugin, ClusterState cluster, PodSpec pod, int node) =>
        plugin.Score(new SchedulingContext(cluster, pod, new Random(1)), node);

    [Fact]
    public void Dot_product_scores_one_minus_half_the_normalized_dot_product()
    {
        // free (64 cores, 4 GPUs), pod (32 cores, 1 GPU): dot = 0.5*0.25 + 0.5*0.125 = 0.1875; (1 - 0.09375) * 100 = 90.6
        var cluster = Fixtures.Cluster(Fixtures.Node("n0", 64_000, 4));
        Assert.Equal(90, Score(new DotProductScore(), cluster, Fixtures.Pod("p", 32_000, 1000), 0));
    }

    [Fact]
    public void Gpu_clustering_rewards_nodes_hosting_only_the_same_gpu_shape()
    {
        var cluster = Fixtures.Cluster(Fixtures.Node("same", 96_000, 8), Fixtures.Node("idle", 96_000, 8), Fixtures.Node("other", 96_000, 8));
        Fixtures.Bind(cluster, 0, Fixtures.Pod("s", 1000, 500), 0);
        Fixtures.Bind(cluster, 2, Fixtures.Pod("w", 1000, 1000), 0);
        var shared = Fixtures.Pod("p", 1000, 300);
        var plugin = new GpuClusteringScore();
        Assert.Equal(25 * 500 / 8000 + 75, Score(plugin, cluster, shared, 0)); // 1 + 75
        Assert.Equal(25, Score(plugin, cluster, shared, 1));
        Assert.Equal(25 * 1000 / 8000, Score(plugin, cluster, shared, 2)); // 3
        Assert.Equal(0, Score(plugin, cluster, Fixtures.Pod("cpu", 1000), 0));
    }

    [Fact]
    public void Gpu_packing_prefers_partly_used_gpus_then_partly_used_nodes()
    {
        var cluster = Fixtures.Cluster(Fixtures.Node("used", 96_000, 8), Fixtures.Node("idle", 96_000, 8));
        Fixtures.Bind(cluster, 0, Fixtures.Pod("half", 1000, 500), 0);
        var plugin = new GpuPackingScore();
        Assert.Equal(100 - 50 / 10, Score(plugin, cluster, Fixtures.Pod("share", 1000, 300), 0)); // 95
        Assert.Equal(50 - 1, Score(plugin, cluster, Fixtures.Pod("whole", 1000, 1000), 0)); // 49
        Assert.Equal(33 - 8, Score(plugin, cluster, Fixtures.Pod("share2", 1000, 300), 1)); // 25
    }

    [Fact]
    public void Best_fit_scores_leftover_and_min_max_normalizes()
    {
        var cluster = Fixtures.Cluster(Fixtures.Node("big", 64_000, 8), Fixtures.Node("snug", 16_000, 1));
        var pod = Fixtures.Pod("p", 8_000, 1000);
        var plugin = new BestFitScore();
        // big: (56/128)*0.5 + (7/8)*0.5 = 0.65625 -> 34; snug: (8/128)*0.5 = 0.03125 -> 96
        long[] scores = [Score(plugin, cluster, pod, 0), Score(plugin, cluster, pod, 1)];
        Assert.Equal([34L, 96L], scores);
        plugin.Normalize(new SchedulingContext(cluster, pod, new Random(1)), [0, 1], scores);
        Assert.Equal([0L, 100L], scores);
    }

    [Fact]
    public void Fgd_scores_the_fragmentation_change_and_picks_the_device_that_lowers_it()
    {
        // Typical pod: one whole GPU. Node GPUs left [1000, 600]: F = 600 (GPU1 is a fragment).
        // A 500m pod on GPU0 leaves [500, 600]: no whole GPU, F = 1100 -> sigmoid(-0.5) = 37.
        // On GPU1 it leaves [1000, 100]: F = 100 -> sigmoid(+0.5) = 62, so FGD takes GPU1.
        var evaluator = new FgdEvaluator(new FragmentationModel([new(new PodShape(1000, 1000, 1, ""), 1.0)]));
        var cluster = Fixtures.Cluster(Fixtures.Node("n0", 32_000, 2));
        Fixtures.Bind(cluster, 0, Fixtures.Pod("used", 1000, 400), 1);
        var pod = Fixtures.Pod("p", 1000, 500);
        Assert.Equal(62, Score(new FgdScore(evaluator), cluster, pod, 0));
        Assert.Equal([1], new FgdDeviceSelector(evaluator).Select(cluster, 0, pod).Devices);
        Assert.Equal([1], BestFitDeviceSelector.Instance.Select(cluster, 0, pod).Devices);
        Assert.Equal([0], WorstFitDeviceSelector.Instance.Select(cluster, 0, pod).Devices);
        Assert.Equal(37, FgdEvaluator.ScoreOf(600, 1100));
    }

    [Fact]
    public void Every_paper_policy_is_registered_and_scores_every_node()
    {
        var catalog = PolicyCatalog.CreateDefault();
        foreach (var name in new[] { "random", "dotprod", "gpu-clustering", "gpu-packing", "best-fit", "fgd" })
        {
            var profile = catalog.Create(name);
            Assert.Equal(100, profile.PercentageOfNodesToScore);
            Assert.Single(profile.Scores);
        }
        Assert.IsType<FgdDeviceSelector>(catalog.Create("fgd").DeviceSelector);
        Assert.IsType<WorstFitDeviceSelector>(catalog.Create("best-fit", new PolicyOptions { Settings = new Dictionary<string, string> { ["gpusel"] = "worst" } }).DeviceSelector);
    }
}
