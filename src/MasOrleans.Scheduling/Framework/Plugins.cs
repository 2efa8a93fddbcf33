using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Framework;

/// <summary>
/// Feasibility check for one node (kube-scheduler's Filter extension point).
/// Returns null when the node passes, else a short reason such as "Insufficient cpu".
/// Reasons should be constant strings: the hot path must not allocate per node.
/// </summary>
public interface IFilterPlugin
{
    string Name { get; }

    /// <summary>Once per pod, before any node is filtered (kube-scheduler's PreFilter).</summary>
    void PreFilter(SchedulingContext context) { }

    string? Filter(SchedulingContext context, int node);

    /// <summary>
    /// kube's UnschedulableAndUnresolvable status: whether Filter's <paramref name="reason"/> stays true however many pods
    /// leave the node, so preemption passes the node over ("Preemption is not helpful for scheduling").
    /// </summary>
    bool IsUnresolvable(string reason) => false;

    /// <summary>
    /// <see cref="IsUnresolvable(string)"/> for a rejection whose kind depends on the node as well (NodeResourcesFit: a
    /// request above the node's allocatable); preemption asks this one.
    /// </summary>
    bool IsUnresolvable(SchedulingContext context, int node, string reason) => IsUnresolvable(reason);
}

/// <summary>
/// Scores feasible nodes 0..100 (MaxNodeScore) after an optional normalization over all of them
/// (kube-scheduler's Score and NormalizeScore).
/// </summary>
public interface IScorePlugin
{
    string Name { get; }

    /// <summary>Once per pod with the nodes that passed filtering (kube-scheduler's PreScore).</summary>
    void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes) { }

    long Score(SchedulingContext context, int node);

    /// <summary>Rescales raw scores in place to 0..100; the default leaves them as they are.</summary>
    void Normalize(SchedulingContext context, ReadOnlySpan<int> feasibleNodes, Span<long> scores) { }
}

/// <summary>
/// Optional fast path for a filter: verdicts for many nodes in one call. For every i whose
/// <paramref name="reasons"/>[i] is still null (earlier filters passed the node), set it to what
/// <see cref="IFilterPlugin.Filter"/> would return for nodes[i]; leave the others alone.
/// </summary>
public interface IBatchFilterPlugin : IFilterPlugin
{
    void FilterBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<string?> reasons);
}

/// <summary>
/// Optional fastest path for a filter: only whether each node passes, without its reason, so it can be computed without a
/// branch per node. For every i, set <paramref name="pass"/>[i] to 0 when <see cref="IFilterPlugin.Filter"/> would
/// reject nodes[i], and leave it alone otherwise. The scheduler asks for reasons (FilterBatch, Filter) only when no node passes.
/// </summary>
public interface IPassFilterPlugin : IBatchFilterPlugin
{
    void PassBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<byte> pass);

    /// <summary>Every reason <see cref="IFilterPlugin.Filter"/> can give, indexed as <see cref="RejectBatch"/> counts them.</summary>
    IReadOnlyList<string> RejectionReasons { get; }

    /// <summary>
    /// For a pod that fits nowhere: for every i with <paramref name="pass"/>[i] != 0 that Filter would reject, set it to 0
    /// and add one to <paramref name="counts"/>[k], where <see cref="RejectionReasons"/>[k] is Filter's reason.
    /// </summary>
    void RejectBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<byte> pass, Span<int> counts);
}

/// <summary>
/// Optional fast path for a score plugin: raw scores for many nodes in one call, so the per-node interface
/// call and set-up are paid once per pod. Must give exactly what <see cref="IScorePlugin.Score"/> gives per node
/// (ProfileScheduler's reference mode and the equivalence tests check this).
/// </summary>
public interface IBatchScorePlugin : IScorePlugin
{
    void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores);
}

/// <summary>
/// Called once the decision a cycle made is bound (kube-scheduler's PostBind), never for explain calls, extender
/// queries or attempts the node refused: a learned policy records its experience here, so only real placements teach it.
/// </summary>
public interface IPostBindPlugin
{
    void PostBind(SchedulingContext context, int node);
}

/// <summary>Chooses the GPU devices a pod takes on its chosen node.</summary>
public interface IGpuDeviceSelector
{
    string Name { get; }
    GpuAllocation Select(ClusterState cluster, int node, PodSpec pod);

    /// <summary>The scheduler calls this overload; selectors that choose at random use the cycle's seeded Random.</summary>
    GpuAllocation Select(ClusterState cluster, int node, PodSpec pod, Random random) => Select(cluster, node, pod);
}

public sealed record WeightedScorePlugin(IScorePlugin Plugin, int Weight);

public static class NodeScore
{
    public const long MaxNodeScore = 100;
}
