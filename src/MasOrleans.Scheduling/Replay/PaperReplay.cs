using System.Diagnostics;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Replay;

/// <summary>
/// The FGD paper's experiment: arrivals per <see cref="PaperArrivals"/>, each pod placed once when it
/// arrives (a pod that fits nowhere fails for good), no departures. The curve records GPU allocation and
/// fragmentation every <see cref="ReplaySettings.SampleStepPercent"/> of arrived GPU demand. Nodes are ordered for the
/// lowest-name tie-break as the simulator renames them (<see cref="SimulatorNodeNames"/>).
/// </summary>
internal static class PaperReplay
{
    public static ReplayResult Run(ReplayContext context, IReadOnlyList<PodSpec> tracePods, ReplaySettings settings)
    {
        var cluster = context.Cluster;
        var meter = new ClusterMeter(cluster);
        var capacity = meter.CapacityOf(ResourceKind.Gpu);
        if (capacity == 0) throw new UserInputException("paper mode needs GPUs: the cluster has none");
        var random = new Random(context.Seed);
        var arrivals = PaperArrivals.Build(tracePods, capacity, settings.Tune, random);
        // As in the simulator (pkg/simulator/core.go: arrivals tuned, then RunCluster renames the nodes), the node
        // renaming draws from the same seeded stream after the arrivals, so arrivals are as they were without it.
        cluster.SetTieBreakRank(SimulatorNodeNames.TieBreakRank(cluster.Nodes.Select(n => n.Name).ToList(), random));
        var fragmentation = new ClusterFragmentation(context.Fragmentation, cluster);
        var curve = new List<DemandPoint> { Sample(0, meter, fragmentation) };

        var clock = Stopwatch.StartNew();
        long arrived = 0;
        int placed = 0, failed = 0;
        var nextSample = settings.SampleStepPercent;
        for (var i = 0; i < arrivals.Count; i++)
        {
            var pod = arrivals[i];
            arrived += pod.Requests.GpuMilli;
            if (context.TryPlace(pod)) placed++;
            else failed++;
            var arrivedPercent = 100.0 * arrived / capacity;
            if (arrivedPercent >= nextSample - 1e-9 || i == arrivals.Count - 1)
            {
                curve.Add(Sample(arrivedPercent, meter, fragmentation));
                while (nextSample <= arrivedPercent + 1e-9) nextSample += settings.SampleStepPercent;
                context.Progress?.Invoke((double)(i + 1) / arrivals.Count);
            }
        }
        var wall = clock.Elapsed.TotalSeconds;
        var last = curve[^1];
        var reaches130 = settings.Tune >= 1.3 - 1e-9;
        return new ReplayResult
        {
            Policy = context.Policy,
            Seed = context.Seed,
            Mode = ReplayMode.Paper,
            Nodes = cluster.NodeCount,
            ClusterGpuMilli = capacity,
            ArrivedPods = arrivals.Count,
            PlacedPods = placed,
            FailedPods = failed,
            AllocAt100 = At(curve, 100)?.GpuAllocPercent,
            AllocAt130 = reaches130 ? last.GpuAllocPercent : null,
            CpuAllocAt130 = reaches130 ? last.CpuAllocPercent : null,
            MemAllocAt130 = reaches130 ? last.MemAllocPercent : null,
            FragmentationAt80 = At(curve, 80)?.FragmentationPercent,
            DecisionsPerSecond = arrivals.Count / Math.Max(wall, 1e-9),
            WallSeconds = wall,
            Curve = curve,
        };
    }

    private static DemandPoint Sample(double arrivedPercent, ClusterMeter meter, ClusterFragmentation fragmentation) =>
        new(arrivedPercent, meter.Percent(ResourceKind.Gpu), fragmentation.PercentOfClusterGpu(), meter.Percent(ResourceKind.Cpu), meter.Percent(ResourceKind.Memory));

    /// <summary>The first sample at or past the given arrived demand; null when the run never got there.</summary>
    public static DemandPoint? At(IReadOnlyList<DemandPoint> curve, double arrivedPercent) =>
        curve.FirstOrDefault(p => p.ArrivedPercent >= arrivedPercent - 1e-9);
}
