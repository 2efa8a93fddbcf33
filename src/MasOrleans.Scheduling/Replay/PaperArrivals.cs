using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Replay;

/// <summary>
/// The paper's arrival sequence (SortClusterPods with shufflePod and TunePodsByNodeTotalResource in the
/// simulator): the trace's pods sorted by name and Fisher-Yates shuffled, then copies drawn uniformly with
/// replacement from the name-sorted trace, appended while the summed GPU request stays within
/// tune x cluster GPU capacity. Go's math/rand stream cannot be reproduced, so the seed drives System.Random:
/// same seed, same sequence here, but not the same sequence as the Go simulator.
/// If the trace alone exceeds the target, it is used whole (the paper only tunes up).
/// </summary>
public static class PaperArrivals
{
    public static IReadOnlyList<PodSpec> Build(IReadOnlyList<PodSpec> tracePods, long clusterGpuMilli, double tune, Random random)
    {
        if (tracePods.Count == 0) throw new UserArgumentException("the trace has no pods");
        var byName = tracePods.OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
        var arrivals = new List<PodSpec>(byName);
        for (var i = arrivals.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (arrivals[i], arrivals[j]) = (arrivals[j], arrivals[i]);
        }
        var target = tune * clusterGpuMilli;
        long demand = arrivals.Sum(p => p.Requests.GpuMilli);
        if (!GpuFreeTrace.HasGpuDemand(byName)) return arrivals;
        for (var copy = 0; ; copy++)
        {
            var source = byName[random.Next(byName.Length)];
            if (demand + source.Requests.GpuMilli > target) break;
            demand += source.Requests.GpuMilli;
            arrivals.Add(source with { Name = $"{source.Name}-tuned-{copy}" });
        }
        return arrivals;
    }
}
