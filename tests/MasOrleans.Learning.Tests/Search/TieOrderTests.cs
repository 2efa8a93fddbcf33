using MasOrleans.Learning.Search;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

using static MasOrleans.Learning.Tests.Search.SearchTestPods;
using MasOrleans.Scheduling;

namespace MasOrleans.Learning.Tests.Search;

public class TieOrderTests
{
    // One typical pod: a whole GPU with 1 CPU (p 1), so F counts a node's idle GPU milli only when no whole device is free
    // or less than 1 CPU is left.
    private static readonly TypicalPod[] WholeGpu = [new(new PodShape(1000, 1000, 1, ""), 1)];

    private static int Chosen(ClusterState cluster, PodSpec pod, string cpuTie, string gpuTie, TypicalPod[]? typical = null)
    {
        var settings = new Dictionary<string, string> { ["cpu.tie"] = cpuTie, ["gpu.tie"] = gpuTie, ["w.shared"] = "1", ["w.power"] = "0" };
        var catalog = PolicyCatalog.CreateDefault();
        SearchPolicies.Register(catalog);
        var profile = catalog.Create(SearchPolicies.Device, new PolicyOptions { TypicalPods = typical ?? WholeGpu, Settings = settings });
        var result = new ProfileScheduler(profile).Schedule(cluster, pod, new Random(1));
        Assert.True(result.Success);
        return result.Node;
    }

    /// <summary>Two 64-CPU, 256 GiB nodes (n0, n1) with <paramref name="gpus"/> A10s each, the given pods bound on them.</summary>
    private static ClusterState TwoNodes(int gpus, params (int Node, PodSpec Pod, GpuAllocation Devices)[] bound)
    {
        var cluster = ClusterState.Of(NodeGenerator.Generate($"gen:count=2,cpu=64,memory=256Gi,gpu={gpus},model=A10,prefix=n"));
        foreach (var (node, pod, devices) in bound) Assert.True(cluster.TryBind(node, pod, devices));
        return cluster;
    }

    [Fact]
    public void A_cpu_pod_goes_to_the_node_without_idle_gpu_among_fgds_equal_scores()
    {
        // Two 64-CPU nodes with one GPU each; node 1's GPU is taken by a whole-GPU pod with 1 CPU.
        // Node 0: 64 CPUs, 1000 idle; the whole GPU fits before and after a 4-CPU pod (60 CPUs left), F = 0 -> 0,
        //         score sigmoid(0) * 100 = 50.
        // Node 1: no idle GPU, F = 0 before and after, score 50.
        // Equal scores: FGD's name order takes node 0, spending CPU beside an idle GPU; no-idle-gpu takes node 1.
        var cluster = TwoNodes(1, (1, Pod("whole", 1000, 1000), new GpuAllocation([0], 1000)));
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
        var cluster = TwoNodes(2, (1, Pod("cpu", 1000, 0), GpuAllocation.None));
        var gpuPod = Pod("gpu", 1000, 1000);
        Assert.Equal(0, Chosen(cluster, gpuPod, "rank", "rank"));
        Assert.Equal(1, Chosen(cluster, gpuPod, "rank", "used"));
        Assert.Equal(0, Chosen(cluster, gpuPod, "rank", "fullest"));
        // CPU-only pods are not ordered by gpu.tie. Both nodes have idle GPUs, so no-idle-gpu leaves the name order too;
        // no-idle-gpu-then-used takes the node hosting a pod.
        var cpuPod = Pod("cpu2", 1000, 0);
        Assert.Equal(0, Chosen(cluster, cpuPod, "rank", "used"));
        Assert.Equal(0, Chosen(cluster, cpuPod, "no-idle-gpu", "rank"));
        Assert.Equal(1, Chosen(cluster, cpuPod, "no-idle-gpu-then-used", "rank"));
    }

    [Fact]
    public void A_tie_order_never_overrides_a_better_fgd_score()
    {
        // Two 64-CPU nodes with two GPUs each; node 1 hosts a CPU-only pod of 62.5 CPUs, leaving 1.5.
        // A whole-GPU pod with 1 CPU: on node 0 it leaves a whole GPU and 63 CPUs, the typical pod still fits, ΔF = 0,
        // score 50. On node 1 it leaves a whole GPU but 0.5 CPU, the typical pod (1 CPU) no longer fits, so the idle
        // GPU becomes a fragment: ΔF = +1000, a score below 50. `used` prefers node 1 (it hosts a pod) only among equal
        // scores, so node 0 it stays.
        var cluster = TwoNodes(2, (1, Pod("cpu", 62_500, 0), GpuAllocation.None));
        var gpuPod = Pod("gpu", 1000, 1000);
        Assert.Equal(0, Chosen(cluster, gpuPod, "rank", "rank"));
        Assert.Equal(0, Chosen(cluster, gpuPod, "rank", "used"));
    }

    [Fact]
    public void Exact_orders_fgds_equal_scores_by_the_exact_fragmentation_change()
    {
        // Typical pods: a whole GPU (p 0.9) and a 200-milli share (p 0.1), 1 CPU each. Two 3-GPU nodes, 64 CPUs:
        // node 0 free [1000, 300, 300]: whole GPU fragment 600, share 0, F = 540. The 200-milli pod's best device is 1 (or 2):
        //   [1000, 100, 300]: whole fragment 400, share fragment 100 (fits on 1000 and 300), F = 360 + 10 = 370, ΔF = -170 -> 54.
        // node 1 free [1000, 250, 300]: F = 0.9 * 550 = 495; device 1: [1000, 50, 300], F = 315 + 5 = 320, ΔF = -175 -> 54
        //   (device 2: [1000, 250, 100], F = 325, also 54; FGD's first device, 1, is the exact best here: the order uses the
        //   ΔF of FGD's device).
        // Equal scores (54): the name order takes node 0; exact takes node 1 (-175 < -170).
        var typical = new TypicalPod[] { new(new PodShape(1000, 1000, 1, ""), 0.9), new(new PodShape(1000, 200, 1, ""), 0.1) };
        var cluster = TwoNodes(3,
            (0, Pod("a", 1000, 700), new GpuAllocation([1], 700)), (0, Pod("b", 1000, 700), new GpuAllocation([2], 700)),
            (1, Pod("c", 1000, 750), new GpuAllocation([1], 750)), (1, Pod("d", 1000, 700), new GpuAllocation([2], 700)));
        var share = Pod("share", 1000, 200);
        Assert.Equal(0, Chosen(cluster, share, "rank", "rank", typical));
        Assert.Equal(1, Chosen(cluster, share, "rank", "exact", typical));
    }

    [Fact]
    public void Unknown_orders_are_named()
    {
        Assert.Contains("unknown cpu.tie 'fullest'", Assert.Throws<UserArgumentException>(() => TieOrderedFgdScore.OrderFrom("fullest")).Message);
        Assert.Contains("unknown gpu.tie 'no-idle-gpu'", Assert.Throws<UserArgumentException>(() => TieOrderedFgdScore.GpuOrderFrom("no-idle-gpu")).Message);
    }
}
