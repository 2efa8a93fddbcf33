using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Search;

/// <summary>Settings of the lookahead search (policy settings "k", "gamma").</summary>
public sealed record LookaheadOptions
{
    /// <summary>FGD's best nodes (by the exact fragmentation change) the search looks ahead from.</summary>
    public int Candidates { get; init; } = 4;
    /// <summary>Weight of the next arrival's expected fragmentation change; 0 (with k = 1 or any k) decides exactly as FGD.</summary>
    public double Gamma { get; init; } = 1.0;
    /// <summary>The order among FGD's equal scores before the tie-break rank: rank (FGD's), fullest, used, emptiest, cpu-fullest.</summary>
    public string Tie { get; init; } = "rank";
    /// <summary>Rank by the exact fragmentation change instead of FGD's integer score (setting score=exact; measured far worse).</summary>
    public bool ExactDelta { get; init; }
}

/// <summary>
/// One-step lookahead over FGD's best candidates. FGD's k best nodes (its integer score, ties in the simulator's
/// renamed-name order) are re-scored with FGD's score formula applied to ΔF_c(pod) + γ · (E_c − E_now), where
/// E = Σ_s p_s · (best ΔF_s over the nodes s fits), s runs over the typical pods (the arrivals FGD itself assumes) and
/// ΔF is FGD's fragmentation change. Only node c differs between the branches, so the best node for s after placing
/// on c is c itself or the best other node of the cluster as it is (the second best when the best is c). The highest
/// score wins, ties in FGD's order, so γ = 0 decides exactly as FGD. FGD's integer rounding is kept on purpose: ranking
/// by the exact ΔF breaks the many ties FGD leaves to the node order, and that alone costs about 4.6 points (docs/learning.md).
/// Not thread-safe (one per profile, like FGD's evaluator).
/// </summary>
public sealed class FragmentationLookahead(FgdEvaluator evaluator, LookaheadOptions options)
{
    private readonly FragmentationModel _model = evaluator.Model;
    private readonly TypicalPod[] _typical = evaluator.Model.TypicalPods.ToArray();
    private long[] _score = [];
    private double[] _secondary = [];
    private double[] _delta = [];

    public FgdEvaluator Evaluator => evaluator;

    /// <summary>The chosen node among the feasible ones (-1 when none).</summary>
    public int Choose(ClusterState cluster, PodSpec pod, ReadOnlySpan<int> feasible)
    {
        if (feasible.Length == 0) return -1;
        if (_score.Length < feasible.Length) { _score = new long[feasible.Length]; _delta = new double[feasible.Length]; _secondary = new double[feasible.Length]; }
        var rank = cluster.TieBreakRanks;
        for (var i = 0; i < feasible.Length; i++)
        {
            var choice = evaluator.Evaluate(cluster, feasible[i], pod);
            (_score[i], _delta[i]) = (choice.Score, choice.FragmentationDelta);
            _secondary[i] = Secondary(cluster, feasible[i]);
        }
        var nodes = feasible.ToArray();
        var top = TopK(nodes, rank, Math.Min(options.Candidates, feasible.Length));
        if (options.Gamma == 0 || _typical.Length == 0) return nodes[top[0]];

        var best = new (int Node, double Delta, double Second)[_typical.Length];
        double now = 0;
        for (var s = 0; s < _typical.Length; s++)
        {
            best[s] = BestOf(cluster, _typical[s].Shape);
            now += _typical[s].Probability * OrZero(best[s].Delta);
        }
        // FGD's score of ΔF plus γ times how much the placement changes the next arrival's expected ΔF; ties keep FGD's order.
        var chosen = -1;
        long chosenScore = long.MinValue;
        foreach (var i in top)
        {
            var node = nodes[i];
            var score = FgdEvaluator.ScoreOf(0, _delta[i] + options.Gamma * (ExpectedNext(cluster, node, pod, best) - now));
            if (score > chosenScore) { chosen = node; chosenScore = score; }
        }
        return chosen;
    }

    /// <summary>The order among FGD's equal scores before the tie-break rank (lower first).</summary>
    private double Secondary(ClusterState cluster, int node) => options.Tie switch
    {
        "rank" => 0,
        // Pack: the node with the least GPU left (then CPU left) first.
        "fullest" => cluster.Free(ResourceKind.Gpu, node) * 1e6 + cluster.Free(ResourceKind.Cpu, node) / 1000.0,
        "used" => cluster.PodsOn(node).Count > 0 ? 0 : 1,
        "emptiest" => -(cluster.Free(ResourceKind.Gpu, node) * 1e6 + cluster.Free(ResourceKind.Cpu, node) / 1000.0),
        "cpu-fullest" => cluster.Free(ResourceKind.Cpu, node),
        var other => throw new UserArgumentException($"unknown tie '{other}' (known: rank, fullest, used, emptiest, cpu-fullest)"),
    };

    /// <summary>A shape that fits nowhere fails and leaves F as it is.</summary>
    private static double OrZero(double delta) => double.IsPositiveInfinity(delta) ? 0 : delta;

    /// <summary>Indices into nodes of FGD's k best: highest score, ties to the lower tie-break rank (then index), as FGD's selectHost.</summary>
    private int[] TopK(int[] nodes, IReadOnlyList<int>? rank, int k)
    {
        var order = Enumerable.Range(0, nodes.Length).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var c = options.ExactDelta ? _delta[a].CompareTo(_delta[b]) : _score[b].CompareTo(_score[a]);
            if (c != 0) return c;
            c = _secondary[a].CompareTo(_secondary[b]);
            if (c != 0) return c;
            return rank is null ? nodes[a].CompareTo(nodes[b]) : rank[nodes[a]].CompareTo(rank[nodes[b]]);
        });
        return order[..k];
    }

    /// <summary>E_s[best ΔF_s] after the pod goes to node.</summary>
    private double ExpectedNext(ClusterState cluster, int node, PodSpec pod, (int Node, double Delta, double Second)[] best)
    {
        // The node after the placement, as FGD's device choice leaves it.
        var cpuLeft = cluster.Free(ResourceKind.Cpu, node) - ClusterState.NonZeroCpuOf(pod);
        var free = cluster.GpuFreeOf(node).ToArray();
        var gpu = pod.Gpu;
        if (gpu.IsShared) free[evaluator.Evaluate(cluster, node, pod).Device] -= gpu.MilliPerGpu;
        else for (int g = 0, left = gpu.Count; g < free.Length && left > 0; g++) if (free[g] == ClusterState.MilliPerGpu) { free[g] = 0; left--; }
        var access = _model.AccessFor(cluster.Spec(node).GpuModel);
        var before = _model.NodeFragment(cpuLeft, free, access);
        var model = cluster.Spec(node).GpuModel;
        double expected = 0;
        for (var s = 0; s < _typical.Length; s++)
        {
            var elsewhere = best[s].Node == node ? best[s].Second : best[s].Delta;
            var here = DeltaOn(_typical[s].Shape, cpuLeft, free, access, model, before);
            expected += _typical[s].Probability * OrZero(Math.Min(here, elsewhere));
        }
        return expected;
    }

    /// <summary>The best and second-best ΔF for a shape over the nodes it fits now (+∞ when none).</summary>
    private (int Node, double Delta, double Second) BestOf(ClusterState cluster, PodShape shape)
    {
        var gpu = new GpuRequest(shape.GpuCount, shape.MilliPerGpu);
        int bestNode = -1;
        double bestDelta = double.PositiveInfinity, second = double.PositiveInfinity;
        for (var n = 0; n < cluster.NodeCount; n++)
        {
            if (cluster.Free(ResourceKind.Cpu, n) < shape.CpuMilli) continue;
            if (shape.NeedsGpu && (!shape.AcceptsModel(cluster.Spec(n).GpuModel) || !cluster.FitsGpus(n, gpu))) continue;
            var d = evaluator.Evaluate(cluster, n, shape).FragmentationDelta;
            if (d < bestDelta) { second = bestDelta; bestDelta = d; bestNode = n; }
            else if (d < second) second = d;
        }
        return (bestNode, bestDelta, second);
    }

    /// <summary>FGD's ΔF for a shape on a node state (its device choice: the best device for a share, the lowest free ones for whole GPUs); +∞ if it does not fit.</summary>
    private double DeltaOn(PodShape shape, long cpuLeft, int[] free, bool[] access, string? nodeModel, double before)
    {
        if (cpuLeft < shape.CpuMilli) return double.PositiveInfinity;
        var cpuAfter = cpuLeft - shape.CpuMilli;
        if (!shape.NeedsGpu) return _model.NodeFragment(cpuAfter, free, access) - before;
        if (!shape.AcceptsModel(nodeModel)) return double.PositiveInfinity;
        Span<int> after = stackalloc int[free.Length];
        free.CopyTo(after);
        if (shape.IsShared)
        {
            var bestDelta = double.PositiveInfinity;
            for (var g = 0; g < free.Length; g++)
            {
                if (free[g] < shape.MilliPerGpu) continue;
                after[g] -= shape.MilliPerGpu;
                bestDelta = Math.Min(bestDelta, _model.NodeFragment(cpuAfter, after, access) - before);
                after[g] += shape.MilliPerGpu;
            }
            return bestDelta;
        }
        var needed = shape.GpuCount;
        for (var g = 0; g < after.Length && needed > 0; g++)
        {
            if (after[g] != ClusterState.MilliPerGpu) continue;
            after[g] = 0;
            needed--;
        }
        return needed > 0 ? double.PositiveInfinity : _model.NodeFragment(cpuAfter, after, access) - before;
    }
}

/// <summary>Gives the lookahead's node the only non-zero score, so the profile's tie-break never decides.</summary>
public sealed class LookaheadScore(FragmentationLookahead search) : IBatchScorePlugin
{
    private sealed record Chosen(int Node);

    public string Name => "FGD-lookahead";

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes) =>
        context.SetState(this, new Chosen(search.Choose(context.Cluster, context.Pod, feasibleNodes)));

    public long Score(SchedulingContext context, int node) => context.StateOf<Chosen>(this)?.Node == node ? NodeScore.MaxNodeScore : 0;

    public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores)
    {
        var chosen = context.StateOf<Chosen>(this)?.Node ?? -1;
        for (var i = 0; i < nodes.Length; i++) scores[i] = nodes[i] == chosen ? NodeScore.MaxNodeScore : 0;
    }
}
