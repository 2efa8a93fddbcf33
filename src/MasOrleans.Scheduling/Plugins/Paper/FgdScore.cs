using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Paper;

/// <summary>
/// Fragmentation Gradient Descent (Weng et al., ATC'23): prefer the node whose fragmentation, measured
/// against the typical pods, grows least (or shrinks most) by placing the pod. No normalization, as in
/// the simulator.
/// </summary>
public sealed class FgdScore(FgdEvaluator evaluator) : IBatchScorePlugin
{
    public string Name => "FGD";
    public FgdEvaluator Evaluator { get; } = evaluator;

    public long Score(SchedulingContext context, int node) => Evaluator.Evaluate(context.Cluster, node, context.Pod).Score;

    public void ScoreBatch(SchedulingContext context, ReadOnlySpan<int> nodes, Span<long> scores) =>
        Evaluator.ScoreBatch(context.Cluster, context.Pod, nodes, scores);
}
