using MasOrleans.Scheduling.Framework;

namespace MasOrleans.Scheduling.Plugins.Scores;

/// <summary>
/// Every feasible node scores the same, so the framework's random tie-break picks one uniformly
/// (the FGD paper's Random baseline). Randomness comes from the cycle's seeded Random.
/// </summary>
public sealed class RandomScore : IScorePlugin
{
    public string Name => "Random";
    public long Score(SchedulingContext context, int node) => 0;
}
