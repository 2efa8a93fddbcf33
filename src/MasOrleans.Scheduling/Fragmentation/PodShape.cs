using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Fragmentation;

/// <summary>
/// A pod's shape as the FGD paper groups pods: CPU milli, GPU milli per device, device count and the
/// allowed GPU models ("" = any, else models joined by '|'). Memory is ignored, as in the paper.
/// </summary>
public readonly record struct PodShape(long CpuMilli, int MilliPerGpu, int GpuCount, string GpuModels)
{
    public bool NeedsGpu => GpuCount > 0;
    public bool IsShared => GpuCount == 1 && MilliPerGpu < ClusterState.MilliPerGpu;

    /// <summary>The simulator reads CPU with kube-scheduler's non-zero default (100m for pods asking none).</summary>
    public static PodShape Of(PodSpec pod)
    {
        var gpu = pod.Gpu;
        return new PodShape(ClusterState.NonZeroCpuOf(pod), gpu.MilliPerGpu, gpu.Count, GpuModelsOf(pod));
    }

    /// <summary>True when a node with this GPU model may host the shape (empty list = any model; CPU-only nodes never).</summary>
    public bool AcceptsModel(string? nodeModel)
    {
        if (GpuModels.Length == 0) return true;
        if (string.IsNullOrEmpty(nodeModel)) return false;
        foreach (var m in GpuModels.Split('|'))
        {
            if (m == nodeModel) return true;
        }
        return false;
    }

    /// <summary>
    /// The GPU models a pod may use, from its node selector or a required node-affinity "In" on
    /// nvidia.com/gpu.product (how the trace readers express openb's gpu_spec). Sorted so equal sets compare equal.
    /// </summary>
    public static string GpuModelsOf(PodSpec pod)
    {
        if (pod.NodeSelector is not null && pod.NodeSelector.TryGetValue(ResourceNames.GpuProductLabel, out var single)) return single;
        var terms = pod.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is not { Count: 1 } || terms[0].MatchExpressions is not { } expressions) return "";
        foreach (var r in expressions)
        {
            if (r.Key == ResourceNames.GpuProductLabel && r.Operator == SelectorOperators.In && r.Values is { Count: > 0 })
                return string.Join('|', r.Values.Order(StringComparer.Ordinal));
        }
        return "";
    }

    public override string ToString() =>
        $"cpu={CpuMilli}m gpu={GpuCount}x{MilliPerGpu}m{(GpuModels.Length > 0 ? $" model={GpuModels}" : "")}";
}

/// <summary>A typical pod shape and its renormalized frequency p_m.</summary>
public sealed record TypicalPod(PodShape Shape, double Probability);
