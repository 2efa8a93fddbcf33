using MasOrleans.Scheduling.Cluster;
namespace MasOrleans.Learning.Online;

/// <summary>One live decision of a learned policy: what it saw, the candidate it chose and the shaped reward.</summary>
public sealed record PlacementDecision(PlacementObservation Observation, int Action, float Reward);

/// <summary>
/// Consecutive decisions from one silo, in decision order. Decision i's next state is decision i+1's observation
/// (the next pod on the cluster after this placement), so the last decision of a segment only supplies the state
/// the one before it led to.
/// </summary>
public sealed record ExperienceSegment(int ModelVersion, IReadOnlyList<PlacementDecision> Steps)
{
    /// <summary>Complete transitions in this segment (every step but the last).</summary>
    public int Transitions => Math.Max(0, Steps.Count - 1);
}

/// <summary>Where learned policies report their live decisions (the silo's experience collector).</summary>
public interface IExperienceSink
{
    void Record(string algorithm, int modelVersion, PlacementDecision decision);
}

/// <summary>
/// The reward the learners are trained on, in GPUs: placed GPU milli − α·ΔF, over 1000, where ΔF is the change of
/// the chosen node's FGD fragmentation (docs/learning.md). Training and live decisions both use this one formula.
/// </summary>
public static class PlacementReward
{
    public static float Of(long podGpuMilli, double fragmentationDelta, double fragmentationWeight) =>
        (float)((podGpuMilli - fragmentationWeight * fragmentationDelta) / ClusterState.MilliPerGpu);
}
