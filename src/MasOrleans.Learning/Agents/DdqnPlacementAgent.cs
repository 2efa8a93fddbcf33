using MasOrleans.Learning.Agents;
using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;
using static TorchSharp.torch;

namespace MasOrleans.Learning;

/// <summary>Double DQN over the size-independent node scorer: one Q value per node.</summary>
public sealed class DdqnPlacementAgent : IPlacementAgent
{
    internal const string Kind = "node-scorer";
    private const string WeightsName = "online";

    private readonly PlacementObservationEncoder encoder;

    public DdqnPlacementAgent(FeatureLayout layout, DdqnOptions? options = null)
    {
        Layout = layout;
        var o = options ?? new DdqnOptions();
        encoder = new PlacementObservationEncoder(layout.NodeFeatureCount, layout.PodFeatureCount);
        var (online, target) = TorchRuntime.BuildSeeded(o.Seed, () => (
            new NodeScorerNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes),
            new NodeScorerNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes)));
        online.eval();
        Learner = new DdqnLearner<PlacementObservation>(online, target, encoder, o);
    }

    internal DdqnLearner<PlacementObservation> Learner { get; }
    internal PlacementObservationEncoder Encoder => encoder;
    public string Algorithm => "ddqn";
    public FeatureLayout Layout { get; }
    public int Seed => Learner.Options.Seed;
    public DdqnOptions Options => Learner.Options;
    public (string Name, double Value) Exploration => ("epsilon", Learner.Epsilon);

    /// <summary>Deterministic: greedy. Otherwise ε-greedy with the schedule's final ε (a Q network has no other stochastic policy).</summary>
    public int Act(PlacementObservation observation, bool deterministic = true) =>
        Learner.Decide(observation, deterministic ? 0 : Learner.Options.Epsilon.End);

    public int[] ActBatch(IReadOnlyList<PlacementObservation> observations) => GreedyBatch.Act(encoder, Learner.Online, observations);

    public int ActForTraining(PlacementObservation observation) => Learner.Decide(observation, Learner.Epsilon);

    public UpdateStats? Record(PlacementObservation observation, int action, StepResult result)
    {
        ActionMasking.AssertFeasible(action, observation.Feasible);
        var loss = Learner.Observe(new(observation, action, result.Reward, result.Done ? null : result.Next, result.Done));
        return loss is { } l ? new UpdateStats(Learner.Options.BatchSize, l) : null;
    }

    public UpdateStats? FinishTraining() => null; // every transition is already in the replay buffer

    public UpdateStats Pretrain(IEnumerable<(PlacementObservation obs, int expertAction)> demonstrations, int epochs, double? learningRate = null) =>
        Learner.Pretrain(demonstrations, epochs, learningRate);

    public void Save(string directory, ModelProvenance? provenance = null) =>
        ModelDirectory.SaveAgent(directory, this, Kind, Layout, Learner.Options.HiddenSizes, Seed, provenance, WeightsName, Learner.Online);

    /// <summary>Loads a saved DDQN node-scorer model; throws <see cref="ModelLayoutMismatchException"/> if its features differ.</summary>
    public static DdqnPlacementAgent Load(string directory, FeatureLayout expectedLayout, DdqnOptions? options = null)
    {
        var metadata = ModelDirectory.ReadAgent(directory, "ddqn", Kind, expectedLayout);
        var o = (options ?? new DdqnOptions { Seed = metadata.Seed }) with { HiddenSizes = metadata.HiddenSizes };
        var agent = new DdqnPlacementAgent(expectedLayout, o);
        ModelDirectory.LoadWeights(directory, WeightsName, agent.Learner.Online);
        agent.Learner.SyncTarget();
        return agent;
    }

    public void Dispose() => Learner.Dispose();
}
