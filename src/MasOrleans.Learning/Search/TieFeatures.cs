using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Search;

/// <summary>
/// What a learned tie order sees of a node for a pod, each in [-1, 1]: the node as it is and what the pod would leave on it.
/// The setting names (`tie.cpu.&lt;name&gt;`, `tie.gpu.&lt;name&gt;`) are <see cref="Names"/>.
/// </summary>
public enum TieFeature
{
    /// <summary>1 if the node hosts a pod.</summary>
    Used,

    /// <summary>1 if no device of the node has GPU milli free (also a node without devices).</summary>
    NoIdleGpu,

    /// <summary>Free GPU milli / the node's GPU milli (0 without devices), before the pod.</summary>
    IdleGpu,

    /// <summary>CPU the node has left after the pod / its CPU.</summary>
    CpuLeft,

    /// <summary>Memory the node has left after the pod / its memory.</summary>
    MemoryLeft,

    /// <summary>Devices wholly free / devices (0 without devices), before the pod.</summary>
    WholeDevices,

    /// <summary>Devices partly used / devices (0 without devices), before the pod.</summary>
    PartialDevices,

    /// <summary>
    /// CPU left after the pod beyond what the typical GPU pods would ask for the GPU milli left (their CPU per GPU milli),
    /// over the node's CPU, clamped to [-1, 1]: negative when the GPUs left would be stranded for want of CPU.
    /// </summary>
    CpuSurplus,

    /// <summary>
    /// For a shared GPU pod, 1 − (the least milli a device that fits it keeps after it) / 1000: 1 when it fills a device
    /// exactly, near 0 when it breaks a whole one; 0 for other pods.
    /// </summary>
    TightestFit,

    /// <summary>
    /// The share of the typical GPU pods (by frequency) that ask for a GPU model and accept this node's: how much the
    /// model-constrained pods need this node (0 for a node without a model, or when no typical pod names one).
    /// </summary>
    ModelDemand,
}

/// <summary>
/// Computes <see cref="TieFeature"/>s on a cluster for a pod, from the trace's typical pods as they are (not reweighted as
/// fgd-weighted's F is: the features describe the workload). Read-only after construction.
/// </summary>
public sealed class TieFeatures(IReadOnlyList<TypicalPod> typical)
{
    public static readonly IReadOnlyList<string> Names =
        ["used", "no-idle-gpu", "idle-gpu", "cpu-left", "memory-left", "whole-devices", "partial-devices", "cpu-surplus", "tightest-fit", "model-demand"];

    public static int Count => Names.Count;

    private readonly double _cpuPerGpuMilli = TieOrderedFgdScore.CpuPerGpuMilli(typical);
    // Only a model some typical pod names can be in demand; computed once, read without locks by concurrent decisions.
    private readonly Dictionary<string, double> _modelDemand = DemandByModel(typical);

    /// <summary>Writes the features of <paramref name="node"/> for <paramref name="pod"/> into <paramref name="into"/> (length <see cref="Count"/>).</summary>
    public void Compute(ClusterState cluster, int node, PodSpec pod, Span<double> into)
    {
        var free = cluster.GpuFreeOf(node);
        int whole = 0, partial = 0, leastLeft = int.MaxValue;
        var share = pod.Gpu.IsShared ? pod.Gpu.MilliPerGpu : 0;
        foreach (var f in free)
        {
            if (f >= ClusterState.MilliPerGpu) whole++;
            else if (f > 0) partial++;
            if (share > 0 && f >= share) leastLeft = Math.Min(leastLeft, f - share);
        }
        var devices = free.Length;
        var idleMilli = cluster.Free(ResourceKind.Gpu, node);
        var cpuCapacity = Math.Max(1, cluster.CapacityColumn(ResourceKind.Cpu)[node]);
        var memoryCapacity = Math.Max(1, cluster.CapacityColumn(ResourceKind.Memory)[node]);
        var cpuLeft = cluster.Free(ResourceKind.Cpu, node) - ClusterState.NonZeroCpuOf(pod);
        var idleAfter = Math.Max(0, idleMilli - pod.Gpu.TotalMilli);

        into[(int)TieFeature.Used] = cluster.PodsOn(node).Count > 0 ? 1 : 0;
        into[(int)TieFeature.NoIdleGpu] = idleMilli == 0 ? 1 : 0;
        into[(int)TieFeature.IdleGpu] = devices == 0 ? 0 : idleMilli / (double)(devices * ClusterState.MilliPerGpu);
        into[(int)TieFeature.CpuLeft] = Math.Clamp(cpuLeft / (double)cpuCapacity, -1, 1);
        into[(int)TieFeature.MemoryLeft] = Math.Clamp((cluster.Free(ResourceKind.Memory, node) - ClusterState.NonZeroMemoryOf(pod)) / (double)memoryCapacity, -1, 1);
        into[(int)TieFeature.WholeDevices] = devices == 0 ? 0 : whole / (double)devices;
        into[(int)TieFeature.PartialDevices] = devices == 0 ? 0 : partial / (double)devices;
        into[(int)TieFeature.CpuSurplus] = Math.Clamp((cpuLeft - idleAfter * _cpuPerGpuMilli) / cpuCapacity, -1, 1);
        into[(int)TieFeature.TightestFit] = leastLeft == int.MaxValue ? 0 : 1 - leastLeft / (double)ClusterState.MilliPerGpu;
        into[(int)TieFeature.ModelDemand] = ModelDemand(cluster.Spec(node).GpuModel);
    }

    private double ModelDemand(string? model) =>
        string.IsNullOrEmpty(model) ? 0 : _modelDemand.GetValueOrDefault(model);

    private static Dictionary<string, double> DemandByModel(IReadOnlyList<TypicalPod> typical)
    {
        var gpu = typical.Where(t => t.Shape.NeedsGpu).ToList();
        var all = gpu.Sum(t => t.Probability);
        var demand = new Dictionary<string, double>(StringComparer.Ordinal);
        if (all <= 0) return demand;
        foreach (var model in gpu.SelectMany(t => t.Shape.GpuModels.Split('|', StringSplitOptions.RemoveEmptyEntries)).Distinct())
            demand[model] = gpu.Where(t => t.Shape.GpuModels.Length > 0 && t.Shape.AcceptsModel(model)).Sum(t => t.Probability) / all;
        return demand;
    }
}
