using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Cli.Tests;

/// <summary>Hand-made nodes, pods and temp files for tests whose answers are computed by hand.</summary>
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

    public static ClusterState Cluster(params NodeSpec[] nodes)
    {
        var cluster = new ClusterState();
        foreach (var n in nodes) cluster.AddNode(n);
        return cluster;
    }

    /// <summary>Binds a pod to explicit devices (test set-up, not a policy decision).</summary>
    public static void Bind(ClusterState cluster, int node, PodSpec pod, params int[] devices)
    {
        var gpu = pod.Gpu;
        Assert.True(cluster.TryBind(node, pod, gpu.IsNone ? GpuAllocation.None : new GpuAllocation(devices, gpu.MilliPerGpu)));
    }

    public static string TempFile(string name, string content)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mas-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>The repository root (holds MasOrleans.sln), for the committed trace copies.</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MasOrleans.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
