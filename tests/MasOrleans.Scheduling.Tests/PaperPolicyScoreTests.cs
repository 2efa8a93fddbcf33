using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Scheduling.Tests;

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

    // Expected values below are worked out by hand from the FGD authors' simulator, hkust-adsl/kubernetes-scheduler-simulator
    // at 8f3d641 (Go int64 arithmetic, left to right): MaxNodeScore = 100, MaxSpecGpu = 8000 for EVERY node
    // (pkg/type/open-gpu-share/utils/const.go:17), GPU affinity tags "share-gpu" for < 1 GPU and "k-gpu" for k whole
    // GPUs, counted over the node's GPU pods (pkg/type/open-gpu-share/utils/pod.go:92-104, pkg/utils/utils.go:1040-1050).

    [Fact]
    public void Gpu_clustering_scores_match_the_simulator()
    {
        var cluster = Fixtures.Cluster(Fixtures.Node("same", 96_000, 8), Fixtures.Node("idle", 96_000, 8), Fixtures.Node("other", 96_000, 8),
            Fixtures.Node("mixed", 96_000, 8), Fixtures.Node("small-idle", 96_000, 2));
        Fixtures.Bind(cluster, 0, Fixtures.Pod("s", 1000, 500), 0);
        Fixtures.Bind(cluster, 2, Fixtures.Pod("w", 1000, 1000), 0);
        Fixtures.Bind(cluster, 3, Fixtures.Pod("m1", 1000, 500), 0);
        Fixtures.Bind(cluster, 3, Fixtures.Pod("m2", 1000, 2000), 1, 2);
        var shared = Fixtures.Pod("p", 1000, 300);
        var plugin = new GpuClusteringScore();
        // gpu_clustering_score.go:41-42, only the pod's own tag (share-gpu) on the node: 100/4*(8000-7500)/8000 + 100*3/4
        // = 25*500/8000 + 75 = 12500/8000 + 75 = 1 + 75.
        Assert.Equal(76, Score(plugin, cluster, shared, 0));
        // :47-48, no GPU pod on the node: 25*(8000-8000)/8000 + 100/4 = 0 + 25.
        Assert.Equal(25, Score(plugin, cluster, shared, 1));
        // :49-50, only another tag (1-gpu): 25*(8000-7000)/8000 = 25000/8000 = 3.
        Assert.Equal(3, Score(plugin, cluster, shared, 2));
        // :43-44, share-gpu and 2-gpu: left 8000-500-2000 = 5500; 25*2500/8000 + 100*2/4 = 62500/8000 + 50 = 7 + 50.
        Assert.Equal(57, Score(plugin, cluster, shared, 3));
        // :47-48 on a 2-GPU node: MaxSpecGpu stays 8000, so an idle small node is already "used": 25*(8000-2000)/8000 + 25 = 18 + 25.
        Assert.Equal(43, Score(plugin, cluster, shared, 4));
        // :53-54, a pod without GPUs: MinNodeScore.
        Assert.Equal(0, Score(plugin, cluster, Fixtures.Pod("cpu", 1000), 0));
    }

    [Fact]
    public void Gpu_packing_scores_match_the_simulator()
    {
        var cluster = Fixtures.Cluster(Fixtures.Node("used", 96_000, 8), Fixtures.Node("idle", 96_000, 8), Fixtures.Node("two-shares", 96_000, 4),
            Fixtures.Node("small-idle", 96_000, 2));
        Fixtures.Bind(cluster, 0, Fixtures.Pod("half", 1000, 500), 0);
        Fixtures.Bind(cluster, 2, Fixtures.Pod("big-share", 1000, 800), 0);
        Fixtures.Bind(cluster, 2, Fixtures.Pod("small-share", 1000, 300), 1);
        var plugin = new GpuPackingScore();
        // gpu_packing_score.go:109-115 (case 1), GPUs left [500, 1000 x7], least-left-first (resource.go:150-154) takes GPU0:
        // 500*100/1000 = 50; 100 - 50/10 = 95.
        Assert.Equal(95, Score(plugin, cluster, Fixtures.Pod("share", 1000, 300), 0));
        // Same walk on [200, 700, 1000, 1000]: 200 < 300 is skipped (:90), GPU1 fits: 700*100/1000 = 70; 100 - 7 = 93.
        Assert.Equal(93, Score(plugin, cluster, Fixtures.Pod("share", 1000, 300), 2));
        // :102-106 (case 2), a whole GPU on a used node skips GPU0 (500 < 1000) and takes one free GPU: 100/2 - 1 = 49; two: 48.
        Assert.Equal(49, Score(plugin, cluster, Fixtures.Pod("whole", 1000, 1000), 0));
        Assert.Equal(48, Score(plugin, cluster, Fixtures.Pod("two", 1000, 2000), 0));
        // :74-78 (case 3), every GPU free: 100/3 - 8 = 33 - 8 = 25 (capped below by the free count, 8); a 2-GPU node: 33 - 2 = 31.
        Assert.Equal(25, Score(plugin, cluster, Fixtures.Pod("share2", 1000, 300), 1));
        Assert.Equal(31, Score(plugin, cluster, Fixtures.Pod("share3", 1000, 300), 3));
        // :36-38, a pod without GPUs: MinNodeScore.
        Assert.Equal(0, Score(plugin, cluster, Fixtures.Pod("cpu", 1000), 0));
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
