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
/// The 130% readings are taken after the last arrival that keeps arrived GPU demand within 130% of capacity: where
/// tune 1.3 stops arrivals, and at the same arrival when a larger tune, or a trace that alone asks for more, goes on
/// (the same arrival, though not always the same placements: the node ranks are drawn from the seeded stream after the
/// arrivals, so a longer run ranks the nodes otherwise).
/// </summary>
internal static class PaperReplay
{
    /// <summary>The paper's second reading: arrived GPU demand at 1.3 x cluster GPU capacity.</summary>
    private const double ReadingTune = 1.3;

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
        DemandPoint? at130 = null;
        for (var i = 0; i < arrivals.Count; i++)
        {
            var pod = arrivals[i];
            // The same test PaperArrivals stops tuned copies with, so tune 1.3 and a longer run read at the same arrival.
            if (at130 is null && arrived + pod.Requests.GpuMilli > ReadingTune * capacity)
                at130 = Sample(100.0 * arrived / capacity, meter, fragmentation);
            arrived += pod.Requests.GpuMilli;
            if (context.TryPlace(pod)) placed++;
            else
            {
                failed++;
                context.CountFailure(pod);
            }
            var arrivedPercent = 100.0 * arrived / capacity;
            if (arrivedPercent >= nextSample - 1e-9 || i == arrivals.Count - 1)
            {
                curve.Add(Sample(arrivedPercent, meter, fragmentation));
                while (nextSample <= arrivedPercent + 1e-9) nextSample += settings.SampleStepPercent;
                context.Progress?.Invoke((double)(i + 1) / arrivals.Count);
            }
        }
        var wall = clock.Elapsed.TotalSeconds;
        // Arrivals that never passed 130% reach it only when tune stopped them there (within one pod).
        if (at130 is null && settings.Tune >= ReadingTune - 1e-9) at130 = curve[^1];
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
            AllocAt130 = at130?.GpuAllocPercent,
            CpuAllocAt130 = at130?.CpuAllocPercent,
            MemAllocAt130 = at130?.MemAllocPercent,
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
