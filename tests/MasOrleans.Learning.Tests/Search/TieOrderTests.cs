using MasOrleans.Learning.Search;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Learning.Tests.Search;

public class TieOrderTests
{
    private static PodSpec Pod(string name, long cpuMilli, long gpuMilli) =>
        new() { Name = name, Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: 1L << 30, gpuMilli: gpuMilli) };

    // One typical pod: a whole GPU with 1 CPU (p 1), so F counts a node's idle GPU milli only when no whole device is free
    // or less than 1 CPU is left.
    private static readonly TypicalPod[] WholeGpu = [new(new PodShape(1000, 1000, 1, ""), 1)];

    private static int Chosen(ClusterState cluster, PodSpec pod, string cpuTie, string gpuTie)
    {
        var settings = new Dictionary<string, string> { ["cpu.tie"] = cpuTie, ["gpu.tie"] = gpuTie, ["w.shared"] = "1", ["w.power"] = "0" };
        var catalog = PolicyCatalog.CreateDefault();
        SearchPolicies.Register(catalog);
        var profile = catalog.Create(SearchPolicies.Device, new PolicyOptions { TypicalPods = WholeGpu, Settings = settings });
        var result = new ProfileScheduler(profile).Schedule(cluster, pod, new Random(1));
        Assert.True(result.Success);
        return result.Node;
    }

    [Fact]
    public void A_cpu_pod_goes_to_the_node_without_idle_gpu_among_fgds_equal_scores()
    {
        // Two 64-CPU nodes with one GPU each; node 1's GPU is taken by a whole-GPU pod with 1 CPU.
        // Node 0: 64 CPUs, 1000 idle; the whole GPU fits before and after a 4-CPU pod (60 CPUs left), F = 0 -> 0,
        //         score sigmoid(0) * 100 = 50.
        // Node 1: no idle GPU, F = 0 before and after, score 50.
        // Equal scores: FGD's name order takes node 0, spending CPU beside an idle GPU; no-idle-gpu takes node 1.
        var cluster = ClusterState.Of(NodeGenerator.Generate("gen:count=2,cpu=64,memory=256Gi,gpu=1,model=A10,prefix=n"));
        Assert.True(cluster.TryBind(1, Pod("whole", 1000, 1000), new GpuAllocation([0], 1000)));
        var cpuPod = Pod("cpu", 4000, 0);
        Assert.Equal(0, Chosen(cluster, cpuPod, "rank", "rank"));
        Assert.Equal(1, Chosen(cluster, cpuPod, "no-idle-gpu", "rank"));
        // Idle GPU milli: node 0 1000, node 1 0.
        Assert.Equal(1, Chosen(cluster, cpuPod, "least-idle-gpu", "rank"));
        // CPU per GPU milli of the typical GPU pods: 1000 / 1000 = 1. Surplus: node 0 64,000 - 1000 x 1 = 63,000; node 1
        // 63,000 - 0 = 63,000. Equal, so the name order: node 0.
        Assert.Equal(0, Chosen(cluster, cpuPod, "cpu-surplus", "rank"));
    }

    [Fact]
    public void A_gpu_pod_goes_to_the_used_node_among_fgds_equal_scores()
    {
        // Two 64-CPU nodes with two GPUs each; node 1 hosts a 1-CPU CPU-only pod. A whole-GPU pod leaves one whole GPU and
        // 63 (node 0) or 62 (node 1) CPUs: the typical pod fits before and after on both, F = 0 -> 0, both score 50.
        // FGD's name order takes node 0; used takes node 1, the only one hosting a pod; fullest sees equal free GPU
        // milli (2000 both), so the name order again.
        var cluster = ClusterState.Of(NodeGenerator.Generate("gen:count=2,cpu=64,memory=256Gi,gpu=2,model=A10,prefix=n"));
        Assert.True(cluster.TryBind(1, Pod("cpu", 1000, 0), GpuAllocation.None));
        var gpuPod = Pod("gpu", 1000, 1000);
        Assert.Equal(0, Chosen(cluster, gpuPod, "rank", "rank"));
        Assert.Equal(1, Chosen(cluster, gpuPod, "rank", "used"));
        Assert.Equal(0, Chosen(cluster, gpuPod, "rank", "fullest"));
        // CPU-only pods are not ordered by gpu.tie.
        Assert.Equal(0, Chosen(cluster, Pod("cpu2", 1000, 0), "rank", "used"));
    }

    [Fact]
    public void Unknown_orders_are_named()
    {
        Assert.Contains("unknown cpu.tie 'fullest'", Assert.Throws<ArgumentException>(() => TieOrderedFgdScore.OrderFrom("fullest")).Message);
        Assert.Contains("unknown gpu.tie 'no-idle-gpu'", Assert.Throws<ArgumentException>(() => TieOrderedFgdScore.GpuOrderFrom("no-idle-gpu")).Message);
    }
}
