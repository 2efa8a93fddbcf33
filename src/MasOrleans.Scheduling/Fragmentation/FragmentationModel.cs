using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Fragmentation;

/// <summary>
/// FGD's fragmentation measure (the simulator's NodeGpuShareFragAmount summed except q3): for each typical
/// pod m, a node's idle GPU milli all counts as fragment unless m needs GPUs, the node has m's model, enough
/// devices with m's per-GPU milli left and enough CPU; then only the milli on devices with less than m's
/// per-GPU milli left counts. F(node) = sum_m p_m * fragment_m. Immutable, so it can be shared across threads.
/// </summary>
public sealed class FragmentationModel
{
    // Flat arrays of the GPU typical pods: the inner loop runs per node per candidate device.
    private readonly long[] _cpu;
    private readonly int[] _milli;
    private readonly int[] _count;
    private readonly double[] _probability;
    private readonly PodShape[] _shapes;
    // The distinct per-GPU milli the typical pods need, and each pod's index into them: a node's devices are
    // counted once per distinct need instead of once per typical pod (typical pods share few distinct needs).
    private readonly int[] _needs;
    private readonly int[] _needIndex;
    // CPU-only typical pods always count every idle milli (categories xl/xr), so they fold into one factor.
    private readonly double _cpuOnlyProbability;
    private readonly Dictionary<string, bool[]> _accessByModel = new(StringComparer.Ordinal);
    private readonly Lock _accessLock = new();

    public FragmentationModel(IReadOnlyList<TypicalPod> typicalPods)
    {
        TypicalPods = typicalPods;
        var gpu = typicalPods.Where(t => t.Shape.NeedsGpu).ToArray();
        _cpuOnlyProbability = typicalPods.Where(t => !t.Shape.NeedsGpu).Sum(t => t.Probability);
        _cpu = gpu.Select(t => t.Shape.CpuMilli).ToArray();
        _milli = gpu.Select(t => t.Shape.MilliPerGpu).ToArray();
        _count = gpu.Select(t => t.Shape.GpuCount).ToArray();
        _probability = gpu.Select(t => t.Probability).ToArray();
        _shapes = gpu.Select(t => t.Shape).ToArray();
        _needs = _milli.Distinct().ToArray();
        _needIndex = _milli.Select(m => Array.IndexOf(_needs, m)).ToArray();
    }

    public IReadOnlyList<TypicalPod> TypicalPods { get; }

    /// <summary>Which GPU typical pods a node model can host, computed once per model.</summary>
    public bool[] AccessFor(string? nodeModel)
    {
        var key = nodeModel ?? "";
        lock (_accessLock)
        {
            if (_accessByModel.TryGetValue(key, out var access)) return access;
            access = _shapes.Select(s => s.AcceptsModel(nodeModel)).ToArray();
            _accessByModel[key] = access;
            return access;
        }
    }

    /// <summary>F for a node with this much CPU and these per-device free milli.</summary>
    public double NodeFragment(long cpuLeft, ReadOnlySpan<int> gpuFree, bool[] access)
    {
        long idle = 0;
        foreach (var g in gpuFree) idle += g;
        if (idle == 0) return 0;
        // Per distinct need: devices with at least that much left, and the milli on the devices with less.
        Span<int> fitting = _needs.Length <= 32 ? stackalloc int[_needs.Length] : new int[_needs.Length];
        Span<long> small = _needs.Length <= 32 ? stackalloc long[_needs.Length] : new long[_needs.Length];
        for (var k = 0; k < _needs.Length; k++)
        {
            var need = _needs[k];
            var fit = 0;
            long rest = 0;
            foreach (var g in gpuFree)
            {
                if (g >= need) fit++;
                else rest += g;
            }
            fitting[k] = fit;
            small[k] = rest;
        }
        // Summed in typical-pod order, one term per pod, so F is the same double however the counts were found.
        var f = _cpuOnlyProbability * idle;
        for (var t = 0; t < _milli.Length; t++)
        {
            var k = _needIndex[t];
            var fragment = access[t] && cpuLeft >= _cpu[t] && fitting[k] >= _count[t] ? small[k] : idle;
            f += _probability[t] * fragment;
        }
        return f;
    }

    /// <summary>F for one node of a cluster as it is now.</summary>
    public double NodeFragment(ClusterState cluster, int node) =>
        NodeFragment(cluster.Free(ResourceKind.Cpu, node), cluster.GpuFreeOf(node), AccessFor(cluster.Spec(node).GpuModel));
}
