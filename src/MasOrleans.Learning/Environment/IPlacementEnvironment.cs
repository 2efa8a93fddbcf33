namespace MasOrleans.Learning;

/// <summary>
/// A sequential placement problem: one pod at a time is placed on one of NodeCount nodes.
/// The agents know nothing else about the cluster; reward shaping belongs to the environment.
/// Observations are kept by reference (DDQN replay, PPO rollouts): return fresh arrays each step and
/// never mutate an observation after handing it out.
/// </summary>
public interface IPlacementEnvironment
{
    /// <summary>F: features per node.</summary>
    int NodeFeatureCount { get; }

    /// <summary>P: features of the pod being placed.</summary>
    int PodFeatureCount { get; }

    /// <summary>Resets to the start of an episode; returns the first observation.</summary>
    PlacementObservation Reset(int seed);

    /// <summary>Places the current pod on node <paramref name="action"/> (feasible per the mask) and advances.</summary>
    StepResult Step(int action);
}

/// <param name="NodeFeatures">NodeCount*F floats, row-major (node i occupies [i*F, (i+1)*F)).</param>
/// <param name="Feasible">One flag per node; only true nodes may be chosen.</param>
public sealed record PlacementObservation(int NodeCount, float[] NodeFeatures, float[] PodFeatures, bool[] Feasible);

/// <param name="Next">Null when the episode is done.</param>
/// <param name="Info">Environment metrics (e.g. utilisation) surfaced through the trainer's callbacks.</param>
public sealed record StepResult(PlacementObservation? Next, float Reward, bool Done, IReadOnlyDictionary<string, double>? Info = null);
