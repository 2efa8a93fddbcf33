using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Learning.Tests.Support;

/// <summary>
/// A small heterogeneous GPU cluster and a seeded trace for the paper-protocol environment: 8-GPU A10 nodes,
/// 2-GPU T4 nodes, a cordoned and a tainted CPU-only node (never feasible for these pods), and pods that are
/// CPU-only, GPU-sharing, 1 to 8 whole GPUs, or pinned to a GPU model, so feasibility really varies per pod.
/// </summary>
internal static class SyntheticPaperCluster
{
    public static IReadOnlyList<NodeSpec> Nodes()
    {
        var nodes = new List<NodeSpec>();
        nodes.AddRange(NodeGenerator.Generate("gen:count=12,cpu=64,memory=256Gi,gpu=8,model=A10,prefix=a"));
        nodes.AddRange(NodeGenerator.Generate("gen:count=8,cpu=32,memory=128Gi,gpu=2,model=T4,prefix=b"));
        var spare = NodeGenerator.Generate("gen:count=2,cpu=64,memory=256Gi,gpu=0,prefix=c");
        nodes.Add(spare[0] with { Unschedulable = true });
        nodes.Add(spare[1] with { Taints = [new Taint("dedicated", "infra", TaintEffects.NoSchedule)] });
        return nodes;
    }

    public static IReadOnlyList<PodSpec> Pods(int count = 100, int seed = 5)
    {
        var random = new Random(seed);
        var pods = new List<PodSpec>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = random.Next(20);
            long gpu = kind switch
            {
                < 3 => 0,
                < 12 => new[] { 250, 500, 750 }[random.Next(3)],
                < 15 => 1000,
                < 17 => 2000,
                < 19 => 4000,
                _ => 8000,
            };
            var cpu = 1000L * (1 + random.Next(gpu == 0 ? 12 : 4));
            var pod = new PodSpec { Name = $"pod-{i:D4}", Requests = ResourceVector.Of(cpuMilli: cpu, memoryBytes: cpu * 4L * 1024 * 1024, gpuMilli: gpu) };
            if (gpu is > 0 and < 1000 && random.Next(4) == 0)
                pod = pod with { NodeSelector = new Dictionary<string, string> { [ResourceNames.GpuProductLabel] = "T4" } };
            pods.Add(pod);
        }
        return pods;
    }
}

/// <summary>A node sample of the real openb cluster and trace (data/traces/openb), scaled with <see cref="Placement.ClusterSampler"/>.</summary>
internal static class SampledOpenb
{
    public static (IReadOnlyList<NodeSpec> Nodes, IReadOnlyList<PodSpec> Pods) Load(int nodes, int seed = 1)
    {
        var dir = Path.Combine(TestFiles.RepoRoot, "data", "traces", "openb");
        var allNodes = TraceLoader.LoadNodes(Path.Combine(dir, "openb_node_list_gpu_node.csv"));
        var pods = TraceLoader.LoadPods(Path.Combine(dir, "openb_pod_list_default.csv")).Pods.Select(p => p.Pod).ToList();
        return Learning.Placement.ClusterSampler.Sample(allNodes, pods, nodes, seed);
    }
}
