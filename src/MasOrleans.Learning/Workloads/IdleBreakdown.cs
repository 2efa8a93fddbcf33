using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Workloads;

/// <summary>
/// Where a policy's unallocated GPU sits at the end of the paper protocol, in GPUs: whole free devices, and the
/// idle milli of partly used devices by how much each has left (buckets of 50 milli). A device left with less than
/// the smallest share any pod asks for can never be used again, which bounds what a better placement can win.
/// Whole free devices on nodes with less than one core free (<see cref="WholeDevicesWithoutCpu"/>) are stranded for want
/// of CPU; with the cluster's CPU nearly all allocated (<see cref="CpuAllocPercent"/>) no placement frees it.
/// </summary>
public sealed record IdleBreakdown(double AllocPercent, double IdleGpus, double WholeDevices, IReadOnlyDictionary<int, double> PartialByLeftMilli, int FirstFailure, int Arrivals,
    double WholeDevicesWithoutCpu, double CpuAllocPercent)
{
    /// <summary>A node with less CPU free than this cannot take any pod of the traces (their smallest CPU request is a core).</summary>
    public const long StrandingCpuMilli = 1000;

    /// <summary>Runs the paper protocol as <see cref="ReplayRunner"/> does (same arrivals, renaming and scheduling stream) and keeps the final cluster.</summary>
    public static IdleBreakdown Measure(PolicyCatalog catalog, IReadOnlyList<NodeSpec> nodes, IReadOnlyList<PodSpec> trace, string policy, int seed, ReplaySettings settings)
    {
        var typical = TypicalPods.From(trace);
        var schedulers = new PolicySchedulers(catalog, new PolicyOptions { TypicalPods = typical, Settings = settings.PolicySettings });
        var cluster = ClusterState.Of(nodes);
        var random = new Random(seed);
        var capacity = nodes.Sum(n => n.Capacity.GpuMilli);
        var arrivals = PaperArrivals.Build(trace, capacity, settings.Tune, random);
        cluster.SetTieBreakRank(SimulatorNodeNames.TieBreakRank(cluster.Nodes.Select(n => n.Name).ToList(), random));
        var cycle = new InMemoryCluster(cluster, policy).CreateCycle(schedulers, new Random(unchecked(seed * 7919 + 17)));
        var firstFailure = -1;
        for (var i = 0; i < arrivals.Count; i++)
        {
            var run = cycle.Run(arrivals[i]);
            if (!run.IsCompleted) throw new InvalidOperationException("the in-memory cycle must complete synchronously");
            if (run.Result.Verdict != CycleVerdict.Bound && firstFailure < 0) firstFailure = i;
        }
        return Of(cluster, capacity, firstFailure, arrivals.Count);
    }

    internal static IdleBreakdown Of(ClusterState cluster, long capacity, int firstFailure, int arrivals)
    {
        long idle = 0, whole = 0, wholeWithoutCpu = 0, cpuCapacity = 0, cpuFree = 0;
        var partial = new SortedDictionary<int, double>();
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            var nodeCpuFree = cluster.Free(ResourceKind.Cpu, n);
            cpuCapacity += cluster.CapacityColumn(ResourceKind.Cpu)[n];
            cpuFree += nodeCpuFree;
            foreach (var free in cluster.GpuFreeOf(n))
            {
                idle += free;
                if (free == ClusterState.MilliPerGpu)
                {
                    whole += free;
                    if (nodeCpuFree < StrandingCpuMilli) wholeWithoutCpu += free;
                }
                else if (free > 0) partial[free / 50 * 50] = partial.GetValueOrDefault(free / 50 * 50) + free / (double)ClusterState.MilliPerGpu;
            }
        }
        const double gpu = ClusterState.MilliPerGpu;
        return new IdleBreakdown(100.0 * (capacity - idle) / capacity, idle / gpu, whole / gpu, partial, firstFailure, arrivals,
            wholeWithoutCpu / gpu, cpuCapacity == 0 ? 0 : 100.0 * (cpuCapacity - cpuFree) / cpuCapacity);
    }

    public override string ToString() =>
        $"alloc {AllocPercent:F2}%, idle {IdleGpus:F0} GPUs: {WholeDevices:F0} on whole free devices ({WholeDevicesWithoutCpu:F0} of them on nodes with under one core free; " +
        $"cluster CPU {CpuAllocPercent:F1}% allocated), partly used devices by milli left: " +
        string.Join(' ', PartialByLeftMilli.Select(kv => $"{kv.Key}-{kv.Key + 49}:{kv.Value:F0}")) + $"; first failure at arrival {FirstFailure} of {Arrivals}";
}
