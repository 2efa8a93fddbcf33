using System.Diagnostics;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Scheduling.Replay;

/// <summary>
/// Replays trace timestamps: a pod arrives at its creation time (missing = 0), runs for
/// deletion - creation seconds once placed (missing deletion = runs to the end), and a pod that does not fit
/// waits in a queue. After departures free capacity the queue is retried in order; within one retry
/// round a pod whose exact shape already failed is skipped, since placements only shrink free capacity.
/// Waiting time = placement - creation. Pods still queued when events run out count as failed.
/// </summary>
internal static class TimedReplay
{
    private readonly record struct ShapeKey(ResourceVector Requests, string GpuModels);

    public static ReplayResult Run(ReplayContext context, IReadOnlyList<TracePod> trace)
    {
        var cluster = context.Cluster;
        var meter = new ClusterMeter(cluster);
        // Stable order: by creation time, then trace order.
        var arrivals = trace.Select((t, i) => (Pod: t, Index: i, At: t.CreationSeconds ?? 0))
            .OrderBy(a => a.At).ThenBy(a => a.Index).ToList();
        var departures = new PriorityQueue<(string Name, double At), (double, long)>();
        var queue = new LinkedList<(TracePod Pod, double ArrivedAt)>();
        var waits = new List<double>(trace.Count);
        var timeline = new List<TimePoint>();
        double start = arrivals.Count > 0 ? arrivals[0].At : 0, now = start, lastEvent = start;
        long decisions = 0, departureSeq = 0;
        int next = 0, placed = 0, maxQueue = 0;
        double gpuArea = 0, cpuArea = 0, lastGpu = 0, lastCpu = 0;

        void Place(TracePod pod, double arrivedAt)
        {
            placed++;
            waits.Add(now - arrivedAt);
            if (pod.DeletionSeconds is { } end)
            {
                var lifetime = Math.Max(0, end - (pod.CreationSeconds ?? 0));
                departures.Enqueue((pod.Pod.Name, now + lifetime), (now + lifetime, departureSeq++));
            }
        }

        var clock = Stopwatch.StartNew();
        while (next < arrivals.Count || departures.Count > 0)
        {
            var nextArrival = next < arrivals.Count ? arrivals[next].At : double.PositiveInfinity;
            var nextDeparture = departures.Count > 0 ? departures.Peek().At : double.PositiveInfinity;
            var t = Math.Min(nextArrival, nextDeparture);
            gpuArea += lastGpu * (t - now);
            cpuArea += lastCpu * (t - now);
            now = t;
            var freed = false;
            while (departures.Count > 0 && departures.Peek().At <= now)
            {
                cluster.Unbind(departures.Dequeue().Name);
                lastEvent = now;
                freed = true;
            }
            if (freed) decisions += RetryQueue(context, queue, Place);
            while (next < arrivals.Count && arrivals[next].At <= now)
            {
                var pod = arrivals[next++].Pod;
                decisions++;
                // Waiting pods do not block a new arrival that fits (kube-scheduler's queue does not either).
                if (context.TryPlace(pod.Pod)) Place(pod, now);
                else queue.AddLast((pod, now));
                lastEvent = now;
            }
            maxQueue = Math.Max(maxQueue, queue.Count);
            lastGpu = meter.Percent(ResourceKind.Gpu);
            lastCpu = meter.Percent(ResourceKind.Cpu);
            timeline.Add(new TimePoint(now - start, lastGpu, lastCpu, queue.Count));
            context.Progress?.Invoke(arrivals.Count == 0 ? 1 : (double)next / arrivals.Count);
        }
        var wall = clock.Elapsed.TotalSeconds;
        foreach (var (waiting, _) in queue) context.CountFailure(waiting.Pod);
        var makespan = lastEvent - start;
        waits.Sort();
        return new ReplayResult
        {
            Policy = context.Policy,
            Seed = context.Seed,
            Mode = ReplayMode.Timed,
            Nodes = cluster.NodeCount,
            ClusterGpuMilli = meter.CapacityOf(ResourceKind.Gpu),
            ArrivedPods = arrivals.Count,
            PlacedPods = placed,
            FailedPods = queue.Count,
            DecisionsPerSecond = decisions / Math.Max(wall, 1e-9),
            WallSeconds = wall,
            MeanWaitSeconds = waits.Count == 0 ? 0 : waits.Average(),
            P95WaitSeconds = waits.Count == 0 ? 0 : waits[(int)Math.Ceiling(0.95 * waits.Count) - 1],
            MakespanSeconds = makespan,
            MeanGpuAllocPercent = makespan > 0 ? gpuArea / (now - start) : lastGpu,
            MeanCpuAllocPercent = makespan > 0 ? cpuArea / (now - start) : lastCpu,
            MaxQueueLength = maxQueue,
            Timeline = Downsample(timeline, 1000),
        };
    }

    /// <summary>Tries every waiting pod once, in arrival order; returns how many scheduling decisions it made.</summary>
    private static long RetryQueue(ReplayContext context, LinkedList<(TracePod Pod, double ArrivedAt)> queue, Action<TracePod, double> place)
    {
        var failedShapes = new HashSet<ShapeKey>();
        long decisions = 0;
        for (var node = queue.First; node is not null;)
        {
            var following = node.Next;
            var pod = node.Value.Pod.Pod;
            var key = new ShapeKey(pod.Requests, PodShape.GpuModelsOf(pod));
            if (!failedShapes.Contains(key))
            {
                decisions++;
                if (context.TryPlace(pod))
                {
                    place(node.Value.Pod, node.Value.ArrivedAt);
                    queue.Remove(node);
                }
                else failedShapes.Add(key);
            }
            node = following;
        }
        return decisions;
    }

    /// <summary>Keeps at most about <paramref name="max"/> points, always the last one.</summary>
    private static List<TimePoint> Downsample(List<TimePoint> points, int max)
    {
        if (points.Count <= max) return points;
        var step = (double)points.Count / max;
        var kept = new List<TimePoint>(max + 1);
        for (double i = 0; i < points.Count; i += step) kept.Add(points[(int)i]);
        if (kept[^1] != points[^1]) kept.Add(points[^1]);
        return kept;
    }
}
