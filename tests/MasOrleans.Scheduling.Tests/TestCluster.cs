using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>Small hand-made clusters and pods for tests whose answers can be computed by hand.</summary>
internal static class TestCluster
{
    public const long Mi = 1024L * 1024;
    public const long Gi = 1024L * Mi;

    public static NodeSpec Node(string name, long cpuMilli, long memoryBytes, int gpus = 0, IReadOnlyDictionary<string, string>? labels = null,
        IReadOnlyList<Taint>? taints = null, bool unschedulable = false) => new()
    {
        Name = name,
        Capacity = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: memoryBytes, gpuMilli: gpus * 1000L),
        Labels = labels ?? PodSpec.Empty,
        Taints = taints ?? [],
        Unschedulable = unschedulable,
    };

    public static PodSpec Pod(string name, long cpuMilli = 0, long memoryBytes = 0, long gpuMilli = 0) => new()
    {
        Name = name,
        Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: memoryBytes, gpuMilli: gpuMilli),
    };

    public static ClusterState Of(params NodeSpec[] nodes) => ClusterState.Of(nodes);
}
