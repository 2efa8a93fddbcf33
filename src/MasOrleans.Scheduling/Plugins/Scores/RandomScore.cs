using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// The FGD paper's Random baseline as its simulator runs it: PreScore draws one feasible node uniformly
/// (from the cycle's seeded Random) and Score gives it 100, every other node 0. Drawing the node here,
/// rather than leaving all nodes tied, keeps the choice random whatever tie-break the profile uses.
/// </summary>
public sealed class RandomScore : IScorePlugin
{
    public string Name => "Random";

    private sealed class Drawn(int node)
    {
        public int Node { get; } = node;
    }

    public void PreScore(SchedulingContext context, ReadOnlySpan<int> feasibleNodes)
    {
        if (feasibleNodes.IsEmpty) return;
        context.SetState(this, new Drawn(feasibleNodes[context.Random.Next(feasibleNodes.Length)]));
    }

    public long Score(SchedulingContext context, int node) =>
        context.StateOf<Drawn>(this) is { } drawn && drawn.Node == node ? NodeScore.MaxNodeScore : 0;
}
