using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Placement;

/// <summary>
/// The features the learned placement policies see, for one pod and one candidate node. The environment
/// (training) and the catalog's score plugin (inference) both fill them here, so they cannot drift apart.
/// Scales follow the FGD simulator's max specs (128 cores, 8 GPUs) so values stay within about [0, 1].
/// </summary>
public static class PlacementFeatures
{
    public const int DeviceSlots = 8;
    private const double MaxCpuMilli = 128_000, MaxGpuMilli = 8_000, MilliPerGpu = ClusterState.MilliPerGpu;
    private const double MaxMemoryBytes = 1024.0 * 1024 * 1024 * 1024; // 1 TiB

    public static readonly FeatureLayout Layout = new(
        [
            "cpu_free_frac", "mem_free_frac", "gpu_free_frac", "cpu_capacity", "gpu_devices",
            .. Enumerable.Range(0, DeviceSlots).Select(i => $"device_free_sorted_{i}"),
            "fgd_score", "bestfit_score", "cpu_left_after", "gpu_left_after", "node_in_use", "fragmentation_before",
        ],
        ["pod_cpu", "pod_mem", "pod_gpu_count", "pod_gpu_milli_per_device", "pod_shared_gpu", "pod_cpu_only", "pod_gpu_model_constrained"]);

    public static int NodeFeatureCount => Layout.NodeFeatureCount;
    public static int PodFeatureCount => Layout.PodFeatureCount;

    public static float[] Pod(PodSpec pod)
    {
        var gpu = pod.Gpu;
        return
        [
            (float)(ClusterState.NonZeroCpuOf(pod) / MaxCpuMilli),
            (float)(pod.Requests.MemoryBytes / MaxMemoryBytes),
            gpu.Count / (float)DeviceSlots,
            (float)(gpu.MilliPerGpu / MilliPerGpu),
            gpu.IsShared ? 1f : 0f,
            gpu.IsNone ? 1f : 0f,
            PodShape.GpuModelsOf(pod).Length > 0 ? 1f : 0f,
        ];
    }

    /// <summary>BestFit's raw (un-normalized) preference 1 - s, s = mean of (cpu, GPU) left after placement over max specs.</summary>
    public static double BestFit(ClusterState cluster, int node, PodSpec pod) =>
        BestFit(cluster.Free(ResourceKind.Cpu, node) - ClusterState.NonZeroCpuOf(pod), cluster.Free(ResourceKind.Gpu, node) - pod.Gpu.TotalMilli);

    /// <summary>
    /// BestFit's order as an integer, for leftovers both ≥ 0: BestFit is 1 − (c + 16g)/256000, so a larger c + 16g is a
    /// smaller BestFit by at least 1/256000, far above the rounding of the doubles; equal values may still differ in
    /// their last bits. −1 when either leftover is negative (BestFit is then 0 exactly).
    /// </summary>
    public static long BestFitLeftover(long cpuLeft, long gpuLeft) =>
        cpuLeft >= 0 && gpuLeft >= 0 ? cpuLeft + (long)(MaxCpuMilli / MaxGpuMilli) * gpuLeft : -1;

    /// <summary>BestFit's raw preference from the CPU and GPU milli a node would have left after placement.</summary>
    public static double BestFit(double cpuLeft, double gpuLeft)
    {
        if (cpuLeft < 0 || gpuLeft < 0) return 0;
        return 1.0 - (cpuLeft / MaxCpuMilli * 0.5 + gpuLeft / MaxGpuMilli * 0.5);
    }

    /// <summary>Writes one node's features at <paramref name="target"/>.</summary>
    /// <param name="fgdScore">FGD's score for this pod on this node (0..100; 0 when infeasible).</param>
    /// <param name="fragmentation">FGD's fragmentation F of the node before placement, GPU milli.</param>
    public static void Node(ClusterState cluster, int node, PodSpec pod, long fgdScore, double fragmentation, Span<float> target)
    {
        var cpuCap = cluster.CapacityColumn(ResourceKind.Cpu)[node];
        var memCap = cluster.CapacityColumn(ResourceKind.Memory)[node];
        var gpuCap = cluster.CapacityColumn(ResourceKind.Gpu)[node];
        // Free amounts (Capacity − Allocated) from the node's fit row: one cache line the filters already read.
        var row = cluster.FitRows.Slice(node * ClusterState.FitRowStride, ClusterState.FitRowStride);
        var cpuFree = row[(int)ResourceKind.Cpu];
        var gpuFree = row[(int)ResourceKind.Gpu];
        target[0] = Fraction(cpuFree, cpuCap);
        target[1] = Fraction(row[(int)ResourceKind.Memory], memCap);
        target[2] = Fraction(gpuFree, gpuCap);
        target[3] = (float)(cpuCap / MaxCpuMilli);
        target[4] = cluster.GpuDeviceCountOf(node) / (float)DeviceSlots;

        // Per-device free shares, largest first, padded with 0: what a GPU-sharing pod can still use.
        // At most 8 values: an insertion sort (largest first) in place of a general sort's call and set-up.
        Span<int> devices = stackalloc int[DeviceSlots];
        devices.Clear();
        var free = cluster.GpuFreeOf(node);
        var count = Math.Min(free.Length, DeviceSlots);
        for (var d = 0; d < count; d++)
        {
            var value = free[d];
            var at = d;
            for (; at > 0 && devices[at - 1] < value; at--) devices[at] = devices[at - 1];
            devices[at] = value;
        }
        for (var i = 0; i < DeviceSlots; i++) target[5 + i] = (float)(devices[i] / MilliPerGpu);

        const int next = 5 + DeviceSlots;
        target[next] = fgdScore / 100f;
        target[next + 1] = (float)BestFit(cpuFree - ClusterState.NonZeroCpuOf(pod), gpuFree - pod.Gpu.TotalMilli);
        target[next + 2] = (float)(Math.Max(0, cpuFree - ClusterState.NonZeroCpuOf(pod)) / MaxCpuMilli);
        target[next + 3] = (float)(Math.Max(0, gpuFree - pod.Gpu.TotalMilli) / MaxGpuMilli);
        target[next + 4] = cluster.PodsOn(node).Count > 0 ? 1f : 0f;
        target[next + 5] = (float)(fragmentation / MaxGpuMilli);
    }

    private static float Fraction(long free, long capacity) => capacity <= 0 ? 0f : (float)free / capacity;
}
