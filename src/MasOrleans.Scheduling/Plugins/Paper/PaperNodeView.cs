using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>The simulator's NodeResource/PodResource view: CPU milli left and GPU milli left, normalized by its max specs.</summary>
internal static class PaperNodeView
{
    /// <summary>gpushareutils.MaxSpecCpu and MaxSpecGpu: the largest node in the paper's cluster (128 cores, 8 GPUs).</summary>
    public const double MaxSpecCpu = 128_000;
    public const double MaxSpecGpu = 8_000;
    public const long MaxSpecGpuMilli = 8_000;

    public static long CpuLeft(ClusterState cluster, int node) => cluster.Free(ResourceKind.Cpu, node);

    public static long GpuLeftTotal(ClusterState cluster, int node) => cluster.Free(ResourceKind.Gpu, node);

    /// <summary>PodResource.MilliCpu uses kube-scheduler's non-zero CPU request.</summary>
    public static long PodCpu(SchedulingContext context) => ClusterState.NonZeroCpuOf(context.Pod);
}
