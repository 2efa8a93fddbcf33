using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>
/// FGD's per-node evaluation: score = sigmoid((F(before) - F(after placing the pod)) / 1000) * 100, and for
/// a GPU-sharing pod the device whose use lowers F most (first such device on ties).
/// A node's result depends only on that node and the pod's shape, and one placement changes one node, so the
/// cached mode (the default) keeps, per pod shape, one result per node stamped with the node's
/// <see cref="ClusterState.NodeVersion"/>: a decision recomputes only the nodes that changed since that shape
/// was last scored. The uncached mode computes every result from the cluster as it is (the reference the
/// equivalence tests hold the cache to). Shared by <see cref="FgdScore"/> and <see cref="Devices.FgdDeviceSelector"/>; not thread-safe.
/// </summary>
public sealed class FgdEvaluator(FragmentationModel model, bool cached = true)
{
    /// <summary>Shapes kept at once; past this the least recently used shape's results are dropped (bounded memory for arbitrary pods).</summary>
    public const int MaxCachedShapes = 256;

    public FragmentationModel Model { get; } = model;
    public bool Cached { get; } = cached;

    /// <param name="FragmentationDelta">F(after) − F(before) of the node for this choice, GPU milli (the learners' reward uses it).</param>
    public readonly record struct Choice(long Score, int Device, double FragmentationDelta);

    private readonly NodeStampedResults<PodShape, Choice> _byShape = new(MaxCachedShapes);

    /// <summary>What every shape's result on a node starts from: F(before) and the typical pods its GPU model can host.</summary>
    private readonly record struct NodeBase(double Before, bool[] Access);

    // One key: a node's base does not depend on the pod.
    private readonly NodeStampedResults<bool, NodeBase> _bases = new(1);
    // The last pod's shape: Score is called per node with the same pod, and PodShape.Of may allocate.
    private PodSpec? _lastPod;
    private PodShape _lastShape;

    public Choice Evaluate(ClusterState cluster, int node, PodSpec pod) => Evaluate(cluster, node, ShapeOf(pod));

    public Choice Evaluate(ClusterState cluster, int node, PodShape shape)
    {
        if (!Cached) return Compute(cluster, node, shape, Model.NodeFragment(cluster, node), Model.AccessFor(cluster.Spec(node).GpuModel));
        return Lookup(cluster, node, shape, _byShape.For(cluster, shape), _bases.For(cluster, true));
    }

    /// <summary>Scores for many nodes at once: the shape's results are found once, then each node costs a version check.</summary>
    public void ScoreBatch(ClusterState cluster, PodSpec pod, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        var shape = ShapeOf(pod);
        if (!Cached)
        {
            for (var i = 0; i < nodes.Length; i++) scores[i] = Evaluate(cluster, nodes[i], shape).Score;
            return;
        }
        var (results, bases) = (_byShape.For(cluster, shape), _bases.For(cluster, true));
        var stamps = results.Stamp;
        var choices = results.Result;
        for (var i = 0; i < nodes.Length; i++)
        {
            var n = nodes[i];
            scores[i] = stamps[n] == cluster.NodeVersion(n) ? choices[n].Score : Lookup(cluster, n, shape, results, bases).Score;
        }
    }

    private PodShape ShapeOf(PodSpec pod)
    {
        if (!ReferenceEquals(pod, _lastPod))
        {
            _lastShape = PodShape.Of(pod);
            _lastPod = pod;
        }
        return _lastShape;
    }

    private Choice Lookup(ClusterState cluster, int node, PodShape shape, NodeStampedResults<PodShape, Choice>.Entry results,
        NodeStampedResults<bool, NodeBase>.Entry bases)
    {
        if (results.TryGet(cluster, node, out var kept)) return kept;
        if (!bases.TryGet(cluster, node, out var b))
        {
            b = new NodeBase(Model.NodeFragment(cluster, node), Model.AccessFor(cluster.Spec(node).GpuModel));
            bases.Set(cluster, node, b);
        }
        var choice = Compute(cluster, node, shape, b.Before, b.Access);
        results.Set(cluster, node, choice);
        return choice;
    }

    private Choice Compute(ClusterState cluster, int node, PodShape shape, double before, bool[] access)
    {
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
}
