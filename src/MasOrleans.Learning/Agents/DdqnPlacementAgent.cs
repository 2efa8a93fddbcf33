using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;

namespace MasOrleans.Learning;

/// <summary>Double DQN over the size-independent node scorer: one Q value per node.</summary>
public sealed class DdqnPlacementAgent : NodeScorerAgent, IPlacementAgent
{
    private const string Name = "ddqn";

    public DdqnPlacementAgent(FeatureLayout layout, DdqnOptions? options = null) : base(Name, layout)
    {
        var o = options ?? new DdqnOptions();
        var (online, target) = TorchRuntime.BuildSeeded(o.Seed, () => (
            new NodeScorerNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes),
            new NodeScorerNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes)));
        online.eval();
        Learner = new DdqnLearner<PlacementObservation>(online, target, Encoder, o);
    }

    internal DdqnLearner<PlacementObservation> Learner { get; }
    internal override IPolicyLearner<PlacementObservation> PolicyLearner => Learner;
    public DdqnOptions Options => Learner.Options;
    public (string Name, double Value) Exploration => ("epsilon", Learner.Epsilon);

    /// <summary>Deterministic: greedy. Otherwise ε-greedy with the schedule's final ε (a Q network has no other stochastic policy).</summary>
    public int Act(PlacementObservation observation, bool deterministic = true) =>
        Learner.Decide(observation, deterministic ? 0 : Learner.Options.Epsilon.End);

    public int ActForTraining(PlacementObservation observation) => Learner.Decide(observation, Learner.Epsilon);

    public UpdateStats? Record(PlacementObservation observation, int action, StepResult result)
    {
        ActionMasking.AssertFeasible(action, observation.Feasible);
        var loss = Learner.Observe(new(observation, action, result.Reward, result.Done ? null : result.Next, result.Done));
        return loss is { } l ? new UpdateStats(Learner.Options.BatchSize, l) : null;
    }

    public UpdateStats? FinishTraining() => null; // every transition is already in the replay buffer

    /// <summary>Loads a saved DDQN node-scorer model; throws <see cref="ModelLayoutMismatchException"/> if its features differ.</summary>
    /// <param name="options">Hyper-parameters for further training; hidden sizes always come from the model.</param>
    public static DdqnPlacementAgent Load(string directory, FeatureLayout expectedLayout, DdqnOptions? options = null) =>
        LoadModel(directory, Name, expectedLayout, metadata => new DdqnPlacementAgent(expectedLayout,
            (options ?? new DdqnOptions { Seed = metadata.Seed }) with { HiddenSizes = metadata.HiddenSizes }));
}
