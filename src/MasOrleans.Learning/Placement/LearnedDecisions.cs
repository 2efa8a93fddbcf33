using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;

namespace MasOrleans.Learning.Placement;

/// <summary>Greedy decisions of a node-scorer agent with the candidate order as tie-break, and model loading by algorithm.</summary>
public static class LearnedDecisions
{
    /// <summary>
    /// Scores within this much of the best count as ties and go to the earliest candidate (the heuristics' order:
    /// FGD's preference, then the lower node name). Candidates with identical features get identical scores, and
    /// this keeps the simulator's lowest-name tie-break instead of letting float noise decide.
    /// </summary>
    public const float TieTolerance = 1e-5f;

    /// <summary>One forward over the candidates (plain C# over the exported weights); returns the chosen candidate index.</summary>
    /// <param name="torch">Score with TorchSharp's forward instead (the pre-C# path, kept as a benchmark baseline).</param>
    public static int Choose(IPlacementAgent agent, PlacementObservation observation, bool torch = false)
    {
        var scores = torch ? TorchScores(agent, observation) : Scores(agent, observation);
        return ChooseAmong(scores, observation.Feasible);
    }

    /// <summary>The greedy choice over masked scores: the earliest feasible candidate within the tie tolerance of the best.</summary>
    public static int ChooseAmong(ReadOnlySpan<float> scores, bool[] feasible)
    {
        float best = float.NegativeInfinity;
        for (var i = 0; i < feasible.Length; i++)
            if (feasible[i] && scores[i] > best) best = scores[i];
        var tolerance = TieTolerance * Math.Max(1f, Math.Abs(best));
        for (var i = 0; i < feasible.Length; i++)
            if (feasible[i] && scores[i] >= best - tolerance) return ActionMasking.AssertFeasible(i, feasible);
        throw new InvalidOperationException("no feasible candidate");
    }

    /// <summary>Masked scores per candidate: Q values (DDQN) or logits (PPO), computed by <see cref="PlainMlp"/> without torch.</summary>
    internal static float[] Scores(IPlacementAgent agent, PlacementObservation observation)
    {
        var network = ScorerOf(agent);
        ObservationValidation.Validate(observation, agent.Layout.NodeFeatureCount, agent.Layout.PodFeatureCount);
        var scores = new float[observation.NodeCount];
        // Row i is node i's features followed by the pod's, as Rows lays them out for torch, without the copy.
        network.Plain.Forward(observation.NodeFeatures, agent.Layout.NodeFeatureCount, observation.PodFeatures, observation.NodeCount, scores);
        return Masked(scores, observation);
    }

    /// <summary>The same scores from TorchSharp's forward (what training computes); the plain path is tested against it.</summary>
    internal static float[] TorchScores(IPlacementAgent agent, PlacementObservation observation)
    {
        var network = ScorerOf(agent);
        var rows = Rows(agent, observation);
        TorchRuntime.UseSingleThread();
        return Masked(network.ScoreRows(rows, observation.NodeCount), observation);
    }

    /// <summary>The plain copy of the agent's weights that <see cref="Scores"/> uses; a new instance whenever they change.</summary>
    internal static PlainMlp PlainOf(IPlacementAgent agent) => ScorerOf(agent).Plain;

    private static NodeScorerNetwork ScorerOf(IPlacementAgent agent) =>
        (agent as NodeScorerAgent)?.PolicyLearner.Scorer as NodeScorerNetwork
        ?? throw new ArgumentException($"{agent.GetType().Name} is not a node-scorer agent", nameof(agent));

    /// <summary>One [node_i ++ pod] row per candidate, row-major.</summary>
    private static float[] Rows(IPlacementAgent agent, PlacementObservation observation)
    {
        ObservationValidation.Validate(observation, agent.Layout.NodeFeatureCount, agent.Layout.PodFeatureCount);
        int f = agent.Layout.NodeFeatureCount, p = agent.Layout.PodFeatureCount, n = observation.NodeCount;
        var rows = new float[n * (f + p)];
        for (var i = 0; i < n; i++)
        {
            Array.Copy(observation.NodeFeatures, i * f, rows, i * (f + p), f);
            Array.Copy(observation.PodFeatures, 0, rows, i * (f + p) + f, p);
        }
        return rows;
    }

    private static float[] Masked(float[] scores, PlacementObservation observation)
    {
        for (var i = 0; i < observation.NodeCount; i++)
            if (!observation.Feasible[i]) scores[i] = ActionMasking.MaskedQ;
        return scores;
    }

    /// <summary>Loads a node-scorer model of either algorithm (from metadata.json) with the placement feature layout.</summary>
    public static IPlacementAgent Load(string directory, string? expectedAlgorithm = null)
    {
        // ReadMetadata names a directory that is missing or a file.
        var metadata = ModelDirectory.ReadMetadata(directory);
        if (expectedAlgorithm is not null && !string.Equals(metadata.Algorithm, expectedAlgorithm, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"model at '{directory}' is a {metadata.Algorithm} model; policy '{expectedAlgorithm}' needs a {expectedAlgorithm} model");
        return metadata.Algorithm.ToLowerInvariant() switch
        {
            "ddqn" => DdqnPlacementAgent.Load(directory, PlacementFeatures.Layout),
            "ppo" => PpoPlacementAgent.Load(directory, PlacementFeatures.Layout),
            var other => throw new InvalidDataException($"model at '{directory}' has unknown algorithm '{other}'"),
        };
    }

    /// <summary>
    /// Checks what <see cref="Load"/> checks short of reading the weights, so without starting TorchSharp: metadata.json's
    /// format version, the algorithm and kind, and the placement feature layout.
    /// </summary>
    /// <exception cref="InvalidDataException">Another format version, algorithm or kind, or metadata that is not JSON.</exception>
    /// <exception cref="ModelLayoutMismatchException">The model was trained on other features.</exception>
    public static void CheckMetadata(string directory, string algorithm) =>
        ModelDirectory.ReadAgent(directory, algorithm, NodeScorerAgent.Kind, PlacementFeatures.Layout);

    /// <summary>The algorithm a model directory holds (metadata.json), without loading weights.</summary>
    public static string AlgorithmOf(string directory) => ModelDirectory.ReadMetadata(directory).Algorithm.ToLowerInvariant();
}
