using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>
/// FGD's per-node evaluation: score = sigmoid((F(before) - F(after placing the pod)) / 1000) * 100, and for
/// a GPU-sharing pod the device whose use lowers F most (first such device on ties). Results are cached per
/// node and pod shape until the node changes, since the same shapes arrive again and again.
/// Shared by <see cref="FgdScore"/> and <see cref="Devices.FgdDeviceSelector"/>; not thread-safe.
/// </summary>
public sealed class FgdEvaluator(FragmentationModel model)
{
    private ClusterState? _cluster;
    private ClusterFragmentation? _before;
    private NodeCache[] _cache = [];

    public FragmentationModel Model { get; } = model;

    /// <param name="FragmentationDelta">F(after) − F(before) of the node for this choice, GPU milli (the learners' reward uses it).</param>
    public readonly record struct Choice(long Score, int Device, double FragmentationDelta);

    private sealed class NodeCache
    {
        public long Version = -1;
        public readonly Dictionary<PodShape, Choice> ByShape = new();
    }

    public Choice Evaluate(ClusterState cluster, int node, PodSpec pod) => Evaluate(cluster, node, PodShape.Of(pod));

    public Choice Evaluate(ClusterState cluster, int node, PodShape shape)
    {
        Bind(cluster);
        var entry = _cache[node] ??= new NodeCache();
        var version = cluster.NodeVersion(node);
        if (entry.Version != version)
        {
            entry.ByShape.Clear();
            entry.Version = version;
        }
        if (entry.ByShape.TryGetValue(shape, out var cached)) return cached;
        var choice = Compute(cluster, node, shape);
        entry.ByShape[shape] = choice;
        return choice;
    }

    private Choice Compute(ClusterState cluster, int node, PodShape shape)
    {
        var before = _before!.NodeFragment(node);
        var access = Model.AccessFor(cluster.Spec(node).GpuModel);
        var cpuAfter = cluster.Free(ResourceKind.Cpu, node) - shape.CpuMilli;
        var free = cluster.GpuFreeOf(node);
        Span<int> after = free.Length <= 64 ? stackalloc int[free.Length] : new int[free.Length];
        free.CopyTo(after);

        if (shape.IsShared)
        {
            var best = new Choice(0, -1, 0);
            for (var g = 0; g < free.Length; g++)
            {
                if (free[g] < shape.MilliPerGpu || IsRepeat(free, g)) continue;
                after[g] -= shape.MilliPerGpu;
                var fragment = Model.NodeFragment(cpuAfter, after, access);
                var score = ScoreOf(before, fragment);
                after[g] += shape.MilliPerGpu;
                if (best.Device < 0 || score > best.Score) best = new Choice(score, g, fragment - before);
            }
            return best;
        }
        // Whole GPUs go to the lowest-numbered fully free devices (AllocateExclusiveGpuId); F only sees the multiset.
        var needed = shape.GpuCount;
        for (var g = 0; g < after.Length && needed > 0; g++)
        {
            if (after[g] != ClusterState.MilliPerGpu) continue;
            after[g] = 0;
            needed--;
        }
        var fragmentAfter = Model.NodeFragment(cpuAfter, after, access);
        return new Choice(ScoreOf(before, fragmentAfter), -1, fragmentAfter - before);
    }

    /// <summary>A device with the same free milli as an earlier one gives the same F; the earlier one wins ties anyway.</summary>
    private static bool IsRepeat(ReadOnlySpan<int> free, int g)
    {
        for (var e = 0; e < g; e++) if (free[e] == free[g]) return true;
        return false;
    }

    public static long ScoreOf(double before, double after) =>
        (long)(1.0 / (1.0 + Math.Exp(-(before - after) / 1000.0)) * 100);

    private void Bind(ClusterState cluster)
    {
        if (!ReferenceEquals(cluster, _cluster))
        {
            _cluster = cluster;
            _before = new ClusterFragmentation(Model, cluster);
            _cache = [];
        }
        if (_cache.Length < cluster.NodeCount) Array.Resize(ref _cache, cluster.NodeCount);
    }
}
