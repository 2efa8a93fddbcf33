using MasOrleans.Learning.Agents;
using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;
using static TorchSharp.torch;

namespace MasOrleans.Learning;

/// <summary>PPO over the size-independent node scorer (actor) and pooled critic.</summary>
public sealed class PpoPlacementAgent : IPlacementAgent
{
    internal const string Kind = "node-scorer";
    private const string WeightsName = "actor-critic";

    private readonly PlacementObservationEncoder encoder;
    private readonly List<PpoTransition<PlacementObservation>> rollout = [];
    private PpoDecision? pending;
    private PlacementObservation? pendingObservation;
    private PlacementObservation? lastNext;

    public PpoPlacementAgent(FeatureLayout layout, PpoOptions? options = null)
    {
        Layout = layout;
        var o = options ?? new PpoOptions();
        encoder = new PlacementObservationEncoder(layout.NodeFeatureCount, layout.PodFeatureCount);
        var model = TorchRuntime.BuildSeeded(o.Seed, () => new ActorCritic(
            new NodeScorerNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes, outputGain: 0.01),
            new PooledCriticNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes)));
        model.eval();
        Learner = new PpoLearner<PlacementObservation>(model, encoder, o);
    }

    internal PpoLearner<PlacementObservation> Learner { get; }
    internal PlacementObservationEncoder Encoder => encoder;
    public string Algorithm => "ppo";
    public FeatureLayout Layout { get; }
    public int Seed => Learner.Options.Seed;
    public PpoOptions Options => Learner.Options;
    public (string Name, double Value) Exploration => ("entropy", Learner.LastEntropy);

    public int Act(PlacementObservation observation, bool deterministic = true) =>
        Learner.Decide(observation, deterministic, withValue: false).Action;

    public int[] ActBatch(IReadOnlyList<PlacementObservation> observations) =>
        GreedyBatch.Act(encoder, Learner.Model.actor, observations);

    public int ActForTraining(PlacementObservation observation)
    {
        var decision = Learner.Decide(observation, deterministic: false, withValue: true);
        pending = decision;
        pendingObservation = observation;
        return decision.Action;
    }

    public UpdateStats? Record(PlacementObservation observation, int action, StepResult result)
    {
        if (pending is not { } d || !ReferenceEquals(observation, pendingObservation) || d.Action != action)
            throw new InvalidOperationException("Record must follow ActForTraining for the same observation and action.");
        pending = null;
        rollout.Add(new(observation, action, d.LogProb, d.Value, result.Reward, result.Done));
        lastNext = result.Next;
        return rollout.Count >= Learner.Options.RolloutSteps ? Flush() : null;
    }

    public UpdateStats? FinishTraining() => rollout.Count > 0 ? Flush() : null;

    private UpdateStats Flush()
    {
        // Bootstrap from V(next) when the rollout stops mid-episode.
        float bootstrap = rollout[^1].Done || lastNext is null ? 0f : Learner.Value(lastNext);
        var stats = Learner.Update(rollout, bootstrap);
        rollout.Clear();
        return stats;
    }

    public UpdateStats Pretrain(IEnumerable<(PlacementObservation obs, int expertAction)> demonstrations, int epochs, double? learningRate = null) =>
        Learner.Pretrain(demonstrations, epochs, learningRate);

    public void Save(string directory, ModelProvenance? provenance = null) =>
        ModelDirectory.SaveAgent(directory, this, Kind, Layout, Learner.Options.HiddenSizes, Seed, provenance, WeightsName, Learner.Model);

    /// <summary>Loads a saved PPO node-scorer model; throws <see cref="ModelLayoutMismatchException"/> if its features differ.</summary>
    /// <param name="options">Hyper-parameters for further training; hidden sizes always come from the model.</param>
    public static PpoPlacementAgent Load(string directory, FeatureLayout expectedLayout, PpoOptions? options = null)
    {
        var metadata = ModelDirectory.ReadAgent(directory, "ppo", Kind, expectedLayout);
        var o = (options ?? new PpoOptions { Seed = metadata.Seed }) with { HiddenSizes = metadata.HiddenSizes };
        var agent = new PpoPlacementAgent(expectedLayout, o);
        ModelDirectory.LoadWeights(directory, WeightsName, agent.Learner.Model);
        return agent;
    }

    public void Dispose() => Learner.Dispose();
}
