using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// Hand-made nodes (512Gi of memory, optional GPU model) and pods (1Gi) for the paper policies' tests, whose answers are
/// computed by hand; <see cref="TestCluster"/> is the kube tests' counterpart.
/// </summary>
internal static class Fixtures
{
    public const long Gi = 1024L * 1024 * 1024;

    public static NodeSpec Node(string name, long cpuMilli, int gpus, string? model = null) => new()
    {
        Name = name,
        Capacity = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: 512 * Gi, gpuMilli: gpus * 1000L),
        Labels = model is null ? PodSpec.Empty : new Dictionary<string, string> { [ResourceNames.GpuProductLabel] = model },
    };

    public static PodSpec Pod(string name, long cpuMilli, long gpuMilli = 0) => new()
    {
        Name = name,
        Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: Gi, gpuMilli: gpuMilli),
    };

    public static ClusterState Cluster(params NodeSpec[] nodes) => ClusterState.Of(nodes);

    /// <summary>Binds a pod to explicit devices (test set-up, not a policy decision).</summary>
    public static void Bind(ClusterState cluster, int node, PodSpec pod, params int[] devices)
    {
        var gpu = pod.Gpu;
        Assert.True(cluster.TryBind(node, pod, gpu.IsNone ? GpuAllocation.None : new GpuAllocation(devices, gpu.MilliPerGpu)));
    }

    public static string TempFile(string name, string content) => TestFiles.Temp(name, content);
}
