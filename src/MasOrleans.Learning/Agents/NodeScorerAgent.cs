using MasOrleans.Learning.Agents;
using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;

namespace MasOrleans.Learning;

/// <summary>
/// What the DDQN and PPO placement agents share: one network scores every candidate node from its features and the
/// pod's, so the feature layout and its encoder, greedy batch decisions, the expert warm start and the model's files
/// are the same for both; the algorithms differ in how they explore and learn.
/// </summary>
public abstract class NodeScorerAgent : IDisposable
{
    /// <summary>The model kind in metadata.json of both algorithms' placement models.</summary>
    internal const string Kind = "node-scorer";

    private protected NodeScorerAgent(string algorithm, FeatureLayout layout)
    {
        Algorithm = algorithm;
        Layout = layout;
        Encoder = new PlacementObservationEncoder(layout.NodeFeatureCount, layout.PodFeatureCount);
    }

    /// <summary>"ddqn" or "ppo".</summary>
    public string Algorithm { get; }
    public FeatureLayout Layout { get; }
    public int Seed => PolicyLearner.Seed;
    internal PlacementObservationEncoder Encoder { get; }

    /// <summary>The agent's learner as far as scoring, warm start and files go.</summary>
    internal abstract IPolicyLearner<PlacementObservation> PolicyLearner { get; }

    public int[] ActBatch(IReadOnlyList<PlacementObservation> observations) => GreedyBatch.Act(Encoder, PolicyLearner.Scorer, observations);

    public UpdateStats Pretrain(IEnumerable<(PlacementObservation obs, int expertAction)> demonstrations, int epochs, double? learningRate = null) =>
        PolicyLearner.Pretrain(demonstrations, epochs, learningRate);

    public void Save(string directory, ModelProvenance? provenance = null) =>
        ModelDirectory.SaveAgent(directory, Algorithm, Kind, Layout, PolicyLearner, provenance);

    /// <summary>Checks a saved model's algorithm, kind and feature layout, builds the agent from its metadata and loads its weights.</summary>
    /// <exception cref="ModelLayoutMismatchException">The model's features differ from <paramref name="expectedLayout"/>.</exception>
    private protected static TAgent LoadModel<TAgent>(string directory, string algorithm, FeatureLayout expectedLayout, Func<ModelMetadata, TAgent> create)
        where TAgent : NodeScorerAgent
    {
        var agent = create(ModelDirectory.ReadAgent(directory, algorithm, Kind, expectedLayout));
        agent.PolicyLearner.LoadWeights(directory);
        return agent;
    }

    public void Dispose() => PolicyLearner.Dispose();
}
