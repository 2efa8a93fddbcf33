using MasOrleans.Scheduling.Fragmentation;

namespace MasOrleans.Scheduling.Tests;

public class FragmentationTests
{
    private static readonly PodShape Shared500 = new(4000, 500, 1, "");
    private static readonly PodShape CpuOnly = new(2000, 0, 0, "");
    private static readonly PodShape WholeGpuBigCpu = new(16000, 1000, 1, "");

    [Fact]
    public void Node_fragment_counts_only_unusable_milli_for_each_typical_pod()
    {
        // GPUs left [1000, 300], 8 cores left, 1300 milli idle.
        // Shared500 fits on GPU0 (cpu ok): only GPU1's 300 counts. CpuOnly: all 1300. WholeGpuBigCpu lacks cpu: all 1300.
        var model = new FragmentationModel([new(Shared500, 0.5), new(CpuOnly, 0.25), new(WholeGpuBigCpu, 0.25)]);
        var cluster = Fixtures.Cluster(Fixtures.Node("n0", 16_000, 2));
        Fixtures.Bind(cluster, 0, Fixtures.Pod("used", 8_000, 700), 1);
        Assert.Equal(0.5 * 300 + 0.25 * 1300 + 0.25 * 1300, model.NodeFragment(cluster, 0), 6);

        var fragmentation = new ClusterFragmentation(model, cluster);
        Assert.Equal(800.0 / 2000 * 100, fragmentation.PercentOfClusterGpu(), 6);
    }

    [Fact]
    public void Wrong_model_and_too_few_gpus_count_all_idle_milli()
    {
        var twoGpusOnT4 = new PodShape(1000, 1000, 2, "T4");
        var model = new FragmentationModel([new(twoGpusOnT4, 1.0)]);
        var a10 = Fixtures.Cluster(Fixtures.Node("a10", 32_000, 4, "A10"));
        Assert.Equal(4000, model.NodeFragment(a10, 0), 6);
        var t4 = Fixtures.Cluster(Fixtures.Node("t4", 32_000, 2, "T4"));
        Assert.Equal(0, model.NodeFragment(t4, 0), 6);
        Fixtures.Bind(t4, 0, Fixtures.Pod("half", 1000, 500), 0);
        Assert.Equal(1500, model.NodeFragment(t4, 0), 6); // only one GPU fully free: the 2-GPU pod cannot fit
    }

    [Fact]
    public void Cluster_fragmentation_follows_binds_through_the_node_version_cache()
    {
        var model = new FragmentationModel([new(WholeGpuBigCpu, 1.0)]);
        var cluster = Fixtures.Cluster(Fixtures.Node("n0", 32_000, 2), Fixtures.Node("n1", 32_000, 2));
        var fragmentation = new ClusterFragmentation(model, cluster);
        Assert.Equal(0, fragmentation.TotalMilli(), 6);
        Fixtures.Bind(cluster, 1, Fixtures.Pod("cpu-hog", 20_000), []); // 12 cores left < 16: both idle GPUs are stranded
        Assert.Equal(2000, fragmentation.TotalMilli(), 6);
        Assert.True(cluster.Unbind("cpu-hog"));
        Assert.Equal(0, fragmentation.TotalMilli(), 6);
    }

    [Fact]
    public void Typical_pods_keep_the_most_frequent_shapes_until_the_coverage_and_renormalize()
    {
        var pods = Enumerable.Range(0, 6).Select(i => Fixtures.Pod($"a{i}", 1000, 500))
            .Concat(Enumerable.Range(0, 3).Select(i => Fixtures.Pod($"b{i}", 2000)))
            .Append(Fixtures.Pod("c", 8000, 4000)).ToList();
        var typical = TypicalPods.From(pods, coveragePercent: 90);
        Assert.Equal(2, typical.Count);
        Assert.Equal(new PodShape(1000, 500, 1, ""), typical[0].Shape);
        Assert.Equal(6.0 / 9, typical[0].Probability, 9);
        Assert.Equal(new PodShape(2000, 0, 0, ""), typical[1].Shape);
        Assert.Equal(3.0 / 9, typical[1].Probability, 9);

        var withoutCpu = TypicalPods.From(pods, coveragePercent: 100, includeCpuOnly: false);
        Assert.Equal(2, withoutCpu.Count);
        Assert.Equal(6.0 / 7, withoutCpu[0].Probability, 9);
    }
}
