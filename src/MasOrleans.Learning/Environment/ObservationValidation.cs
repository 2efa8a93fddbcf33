namespace MasOrleans.Learning;

/// <summary>Shape checks shared by agents: a malformed observation must fail loudly, not mis-index a tensor.</summary>
internal static class ObservationValidation
{
    public static void Validate(PlacementObservation obs, int nodeFeatureCount, int podFeatureCount)
    {
        ArgumentNullException.ThrowIfNull(obs);
        if (obs.NodeCount <= 0)
            throw new ArgumentException($"NodeCount must be positive, was {obs.NodeCount}.", nameof(obs));
        if (obs.NodeFeatures.Length != obs.NodeCount * nodeFeatureCount)
            throw new ArgumentException(
                $"NodeFeatures has {obs.NodeFeatures.Length} values; expected NodeCount*F = {obs.NodeCount}*{nodeFeatureCount}.", nameof(obs));
        if (obs.PodFeatures.Length != podFeatureCount)
            throw new ArgumentException($"PodFeatures has {obs.PodFeatures.Length} values; expected {podFeatureCount}.", nameof(obs));
        if (obs.Feasible.Length != obs.NodeCount)
            throw new ArgumentException($"Feasible has {obs.Feasible.Length} flags; expected {obs.NodeCount}.", nameof(obs));
        if (Array.IndexOf(obs.Feasible, true) < 0)
            throw new ArgumentException("No feasible node: the environment must skip pods that cannot be placed.", nameof(obs));
    }
}
