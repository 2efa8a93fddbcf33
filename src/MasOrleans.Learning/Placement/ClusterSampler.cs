using MasOrleans.Scheduling.Model;

namespace MasOrleans.Learning.Placement;

/// <summary>
/// A smaller cluster for faster training: <c>count</c> nodes drawn without replacement (kept in their original,
/// name-sorted order) and trace pods drawn with the same share of the cluster's GPUs, so the trace's demand
/// relative to capacity (and with it the paper protocol's tuning) stays about the same.
/// </summary>
public static class ClusterSampler
{
    public static (IReadOnlyList<NodeSpec> Nodes, IReadOnlyList<PodSpec> Pods) Sample(
        IReadOnlyList<NodeSpec> nodes, IReadOnlyList<PodSpec> pods, int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count >= nodes.Count) return (nodes, pods);
        var random = new Random(seed);
        var indices = Enumerable.Range(0, nodes.Count).ToArray();
        random.Shuffle(indices);
        var kept = indices[..count].Order().Select(i => nodes[i]).ToList();
        double share = (double)kept.Sum(n => n.Capacity.GpuMilli) / Math.Max(1, nodes.Sum(n => n.Capacity.GpuMilli));
        var sampledPods = pods.Where(_ => random.NextDouble() < share).ToList();
        if (sampledPods.Count == 0) sampledPods.Add(pods[random.Next(pods.Count)]);
        return (kept, sampledPods);
    }
}
