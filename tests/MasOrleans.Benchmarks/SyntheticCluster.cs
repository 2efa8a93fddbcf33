using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Benchmarks;

/// <summary>
/// Clusters shaped like the FGD paper's openb trace (1,213 nodes, mostly 96-cpu / 8-GPU machines plus
/// CPU-only ones), half filled with pods, and a stream of pods to place (CPU-only, GPU shares, whole GPUs).
/// </summary>
public static class SyntheticCluster
{
    private const long Gi = 1024L * 1024 * 1024;

    public static ClusterState Create(int nodes, int seed)
    {
        var random = new Random(seed);
        var cluster = new ClusterState();
        for (var n = 0; n < nodes; n++)
        {
            var (cpu, memoryGi, gpus, model) = (n % 10) switch
            {
                < 6 => (96_000L, 768L, 8, "V100M32"),
                < 8 => (64_000L, 512L, 4, "T4"),
                _ => (96_000L, 512L, 0, null),
            };
            var labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = $"zone-{n % 4}" };
            if (model is not null) labels[ResourceNames.GpuProductLabel] = model;
            cluster.AddNode(new NodeSpec
            {
                Name = $"node-{n:D5}",
                Capacity = ResourceVector.Of(cpuMilli: cpu, memoryBytes: memoryGi * Gi, gpuMilli: gpus * 1000L),
                Labels = labels,
            });
        }
        // Fill about half of the cluster's cpu with a realistic pod mix.
        var target = nodes * 40_000L;
        long placed = 0;
        for (var i = 0; placed < target && i < nodes * 40; i++)
        {
            var pod = Pod(random, $"existing-{i}");
            var node = random.Next(nodes);
            var gpus = BestFit(cluster, node, pod);
            if (gpus is not null && cluster.TryBind(node, pod, gpus)) placed += pod.Requests.CpuMilli;
        }
        return cluster;
    }

    public static PodSpec[] Pods(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i => Pod(random, $"incoming-{i}")).ToArray();
    }

    private static PodSpec Pod(Random random, string name)
    {
        var cpu = random.Next(1, 17) * 1000L;
        var memory = random.Next(1, 65) * Gi;
        var kind = random.Next(10);
        long gpu = kind switch { < 4 => 0, < 7 => random.Next(1, 10) * 100L, _ => random.Next(1, 3) * 1000L };
        return new PodSpec { Name = name, Requests = ResourceVector.Of(cpuMilli: cpu, memoryBytes: memory, gpuMilli: gpu) };
    }

    private static GpuAllocation? BestFit(ClusterState cluster, int node, PodSpec pod)
    {
        if (!cluster.FitsResources(node, pod)) return null;
        return MasOrleans.Scheduling.Plugins.Devices.BestFitDeviceSelector.Instance.Select(cluster, node, pod);
    }
}
