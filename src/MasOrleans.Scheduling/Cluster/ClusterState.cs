using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>
/// The cluster as the policies see it, laid out as structure-of-arrays so score loops run over flat
/// memory: Capacity[dimension][node], Allocated[dimension][node], and one flat array of free milli
/// per GPU device (a node's devices are GpuFree[GpuStart[n] .. GpuStart[n] + GpuCount[n])).
/// Not thread-safe: each scheduler worker owns its own copy or locks around it.
/// </summary>
public sealed partial class ClusterState
{
    public const int MilliPerGpu = 1000;

    private NodeSpec[] _specs = new NodeSpec[16];
    private readonly Dictionary<string, int> _indexByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Node, GpuAllocation Gpus)> _podLocations = new(StringComparer.Ordinal);

    public ClusterState()
    {
        for (var d = 0; d < ResourceNames.Count; d++)
        {
            Capacity[d] = new long[16];
            Allocated[d] = new long[16];
            Utilization[d] = new float[16];
        }
    }

    public int NodeCount { get; private set; }

    /// <summary>Changes with every bind, unbind or node change; lets callers cache per-state work.</summary>
    public long Version { get; private set; }

    /// <summary>
    /// Per node, the value of <see cref="Version"/> when that node last changed (bind, unbind, spec or
    /// readiness), so per-node caches (e.g. fragmentation) can be invalidated one node at a time.
    /// </summary>
    public long NodeVersion(int node) => _nodeVersion[node];
    private long[] _nodeVersion = new long[16];

    private void Touch(int node) => _nodeVersion[node] = ++Version;

    // The per-node columns below are the core's own: its plugins read them in place on the hot path (no copy, no
    // wrapper); code outside the core reads through the read-only accessors (CapacityColumn, PodsOn, IsReady, ...).
    internal long[][] Capacity { get; } = new long[ResourceNames.Count][];
    internal long[][] Allocated { get; } = new long[ResourceNames.Count][];

    /// <summary>Measured utilization 0..1 per dimension from telemetry; NaN where none was reported.</summary>
    internal float[][] Utilization { get; } = new float[ResourceNames.Count][];

    internal int[] GpuStart { get; private set; } = new int[16];
    internal int[] GpuCount { get; private set; } = new int[16];
    internal int[] GpuFree { get; private set; } = new int[64];
    private int _gpuTotal;

    /// <summary>
    /// Requested cpu milli and memory bytes with kube-scheduler's non-zero defaults (100m, 200Mi) for pods
    /// that request none; NodeResourcesFit's scoring reads these, not <see cref="Allocated"/>.
    /// </summary>
    internal long[] NonZeroCpu { get; private set; } = new long[16];
    internal long[] NonZeroMemory { get; private set; } = new long[16];

    public const long DefaultMilliCpuRequest = 100;
    public const long DefaultMemoryRequest = 200L * 1024 * 1024;

    public static long NonZeroCpuOf(PodSpec pod) => pod.Requests.CpuMilli == 0 ? DefaultMilliCpuRequest : pod.Requests.CpuMilli;
    public static long NonZeroMemoryOf(PodSpec pod) => pod.Requests.MemoryBytes == 0 ? DefaultMemoryRequest : pod.Requests.MemoryBytes;

    internal bool[] Ready { get; private set; } = new bool[16];

    /// <summary>True when no node is NotReady: NodeReady's filter then has nothing to reject (a vectorized scan, no counter to go stale).</summary>
    public bool AllReady => !Ready.AsSpan(0, NodeCount).Contains(false);

    /// <summary>True when some node is cordoned: NodeUnschedulable's filter skips otherwise.</summary>
    public bool AnyUnschedulable => Unschedulable.AsSpan(0, NodeCount).Contains(true);

    // Taint summaries kept with the specs (which change only through AddNode/UpdateNode), so taint plugins skip
    // untainted clusters and nodes without walking each node's taint list.
    private bool[] _hasHardTaints = new bool[16];
    private bool[] _hasPreferNoScheduleTaints = new bool[16];

    /// <summary>Nodes with a NoSchedule or NoExecute taint (what TaintToleration's filter checks).</summary>
    public int NodesWithHardTaints { get; private set; }

    /// <summary>Nodes with a PreferNoSchedule taint (what TaintToleration's score counts).</summary>
    public int NodesWithPreferNoScheduleTaints { get; private set; }

    public bool HasHardTaints(int node) => _hasHardTaints[node];
    public bool HasPreferNoScheduleTaints(int node) => _hasPreferNoScheduleTaints[node];

    private void SetTaintFlags(int node, IReadOnlyList<Taint> taints)
    {
        bool hard = false, prefer = false;
        for (var i = 0; i < taints.Count; i++)
        {
            if (taints[i].Effect == TaintEffects.PreferNoSchedule) prefer = true;
            else hard = true;
        }
        NodesWithHardTaints += (hard ? 1 : 0) - (_hasHardTaints[node] ? 1 : 0);
        NodesWithPreferNoScheduleTaints += (prefer ? 1 : 0) - (_hasPreferNoScheduleTaints[node] ? 1 : 0);
        _hasHardTaints[node] = hard;
        _hasPreferNoScheduleTaints[node] = prefer;
    }
    internal bool[] Unschedulable { get; private set; } = new bool[16];
    internal List<BoundPod>[] Pods { get; private set; } = new List<BoundPod>[16];
    internal HashSet<string>[] Images { get; private set; } = new HashSet<string>[16];

    /// <summary>
    /// Bound pods per node that carry pod affinity or anti-affinity (kube-scheduler's PodsWithAffinity):
    /// InterPodAffinity skips the cluster scan when the total is zero.
    /// </summary>
    internal int[] PodsWithAffinity { get; private set; } = new int[16];
    public int PodsWithAffinityTotal { get; private set; }

    public static bool HasPodAffinity(PodSpec pod) => pod.Affinity is { } a && (a.PodAffinity is not null || a.PodAntiAffinity is not null);

    /// <summary>Total number of GPU devices across all nodes.</summary>
    public int GpuDeviceTotal => _gpuTotal;

    public NodeSpec Spec(int node) => _specs[node];
    public string NameOf(int node) => _specs[node].Name;
    public int IndexOf(string name) => _indexByName.TryGetValue(name, out var i) ? i : -1;

    /// <summary>
    /// Per node, its place in the name order that the lowest-name tie-break compares (0 = wins every tie); null
    /// compares the node names themselves. The FGD simulator renames its nodes before scheduling, so a paper replay
    /// sets the order of those names here (<see cref="Replay.SimulatorNodeNames"/>). Adding a node clears it.
    /// </summary>
    internal int[]? TieBreakRank { get; private set; }

    /// <summary>The paper mode's tie-break rank per node (lower wins), or null when ties go by name.</summary>
    public IReadOnlyList<int>? TieBreakRanks => TieBreakRank;

    public void SetTieBreakRank(int[] rank)
    {
        if (rank.Length != NodeCount) throw new ArgumentException($"need one rank per node ({NodeCount}), got {rank.Length}", nameof(rank));
        TieBreakRank = rank;
    }
    public IEnumerable<NodeSpec> Nodes => _specs.Take(NodeCount);
    public int PodCount => _podLocations.Count;

    public long Free(ResourceKind kind, int node) => Capacity[(int)kind][node] - Allocated[(int)kind][node];

    public ResourceVector CapacityOf(int node) => Gather(Capacity, node);
    public ResourceVector AllocatedOf(int node) => Gather(Allocated, node);

    public ReadOnlySpan<int> GpuFreeOf(int node) => GpuFree.AsSpan(GpuStart[node], GpuCount[node]);

    /// <summary>Every node's capacity in one dimension, read-only.</summary>
    public ReadOnlySpan<long> CapacityColumn(ResourceKind kind) => Capacity[(int)kind].AsSpan(0, NodeCount);

    /// <summary>Every node's allocated amount in one dimension, read-only.</summary>
    public ReadOnlySpan<long> AllocatedColumn(ResourceKind kind) => Allocated[(int)kind].AsSpan(0, NodeCount);

    public int GpuDeviceCountOf(int node) => GpuCount[node];
    public bool IsReady(int node) => Ready[node];

    /// <summary>The pods bound to the node, read-only.</summary>
    public IReadOnlyList<BoundPod> PodsOn(int node) => Pods[node];

    /// <summary>A cluster of these nodes, ready and empty (replay, trainers, tests).</summary>
    public static ClusterState Of(IEnumerable<NodeSpec> nodes)
    {
        var cluster = new ClusterState();
        foreach (var node in nodes) cluster.AddNode(node);
        return cluster;
    }

    /// <summary>
    /// Adds a node as its records describe it: readiness, pulled images and the pods bound to it. A bound pod that does
    /// not fit (records that disagree) is left out and handed to <paramref name="misfit"/>.
    /// </summary>
    public int AddNode(NodeSpec spec, IEnumerable<BoundPod> pods, bool ready = true, IEnumerable<string>? images = null, Action<BoundPod>? misfit = null)
    {
        var node = AddNode(spec, ready);
        foreach (var image in images ?? []) AddImage(node, image);
        foreach (var bound in BoundPod.InBindOrder(pods))
        {
            if (!TryBind(node, bound)) misfit?.Invoke(bound);
        }
        return node;
    }

    public int AddNode(NodeSpec spec, bool ready = true)
    {
        if (_indexByName.ContainsKey(spec.Name)) throw new InvalidOperationException($"node '{spec.Name}' already exists");
        TieBreakRank = null;
        EnsureNodeCapacity(NodeCount + 1);
        var n = NodeCount++;
        _specs[n] = spec;
        _indexByName[spec.Name] = n;
        for (var d = 0; d < ResourceNames.Count; d++)
        {
            Capacity[d][n] = spec.Capacity[d];
            Allocated[d][n] = 0;
            Utilization[d][n] = float.NaN;
        }
        var devices = spec.GpuDeviceCount;
        if (_gpuTotal + devices > GpuFree.Length)
        {
            var grown = GpuFree;
            Array.Resize(ref grown, Math.Max(GpuFree.Length * 2, _gpuTotal + devices));
            GpuFree = grown;
        }
        GpuStart[n] = _gpuTotal;
        GpuCount[n] = devices;
        for (var g = 0; g < devices; g++) GpuFree[_gpuTotal + g] = MilliPerGpu;
        _gpuTotal += devices;
        NonZeroCpu[n] = 0;
        NonZeroMemory[n] = 0;
        Ready[n] = ready;
        Unschedulable[n] = spec.Unschedulable;
        RecountCapacity(n, wasSchedulable: false);
        _hasHardTaints[n] = _hasPreferNoScheduleTaints[n] = false;
        SetTaintFlags(n, spec.Taints);
        Pods[n] = [];
        Images[n] = new HashSet<string>(StringComparer.Ordinal);
        PodsWithAffinity[n] = 0;
        RefreshFitRow(n);
        Touch(n);
        return n;
    }

    /// <summary>Replaces labels, taints and the unschedulable flag; capacity and GPUs stay as they are.</summary>
    public void UpdateNode(NodeSpec spec)
    {
        var n = IndexOf(spec.Name);
        if (n < 0) throw new KeyNotFoundException($"node '{spec.Name}' not found");
        _specs[n] = _specs[n] with { Labels = spec.Labels, Taints = spec.Taints, Unschedulable = spec.Unschedulable };
        var wasSchedulable = Schedulable(n);
        Unschedulable[n] = spec.Unschedulable;
        RecountCapacity(n, wasSchedulable);
        SetTaintFlags(n, spec.Taints);
        Touch(n);
    }

    public void SetReady(int node, bool ready)
    {
        var wasSchedulable = Schedulable(node);
        Ready[node] = ready;
        RecountCapacity(node, wasSchedulable);
        Touch(node);
    }

    public void SetUtilization(int node, ResourceKind kind, float value) => Utilization[(int)kind][node] = value;

    /// <summary>A deep copy: parallel workers and what-if evaluations (explain, preemption) use copies.</summary>
    public ClusterState Clone()
    {
        var copy = new ClusterState { DefaultImageSizeBytes = DefaultImageSizeBytes };
        foreach (var (image, size) in ImageSizes) copy.ImageSizes[image] = size;
        for (var n = 0; n < NodeCount; n++)
        {
            copy.AddNode(_specs[n], Ready[n]);
            for (var d = 0; d < ResourceNames.Count; d++) copy.Utilization[d][n] = Utilization[d][n];
            foreach (var image in Images[n]) copy.AddImage(n, image);
        }
        for (var n = 0; n < NodeCount; n++)
        {
            foreach (var bound in Pods[n])
            {
                if (!copy.TryBind(n, bound)) throw new InvalidOperationException("clone diverged");
            }
        }
        copy._nominations.AddRange(_nominations);
        return copy;
    }

    private static ResourceVector Gather(long[][] columns, int node)
    {
        Span<long> v = stackalloc long[ResourceNames.Count];
        for (var d = 0; d < ResourceNames.Count; d++) v[d] = columns[d][node];
        return new ResourceVector(v);
    }

    private void EnsureNodeCapacity(int needed)
    {
        if (needed <= _specs.Length) return;
        var size = Math.Max(needed, _specs.Length * 2);
        Array.Resize(ref _specs, size);
        for (var d = 0; d < ResourceNames.Count; d++)
        {
            Array.Resize(ref Capacity[d], size);
            Array.Resize(ref Allocated[d], size);
            Array.Resize(ref Utilization[d], size);
        }
        GpuStart = Grow(GpuStart, size);
        GpuCount = Grow(GpuCount, size);
        Ready = Grow(Ready, size);
        NonZeroCpu = Grow(NonZeroCpu, size);
        NonZeroMemory = Grow(NonZeroMemory, size);
        Unschedulable = Grow(Unschedulable, size);
        _hasHardTaints = Grow(_hasHardTaints, size);
        _hasPreferNoScheduleTaints = Grow(_hasPreferNoScheduleTaints, size);
        Pods = Grow(Pods, size);
        Images = Grow(Images, size);
        PodsWithAffinity = Grow(PodsWithAffinity, size);
        _nodeVersion = Grow(_nodeVersion, size);
        GrowFitRows(size);
    }

    private static T[] Grow<T>(T[] array, int size)
    {
        Array.Resize(ref array, size);
        return array;
    }
}
