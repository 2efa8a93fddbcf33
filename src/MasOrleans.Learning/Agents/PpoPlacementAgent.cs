using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;

namespace MasOrleans.Learning;

/// <summary>PPO over the size-independent node scorer (actor) and pooled critic.</summary>
public sealed class PpoPlacementAgent : NodeScorerAgent, IPlacementAgent
{
    private const string Name = "ppo";

    private readonly List<PpoTransition<PlacementObservation>> rollout = [];
    private PpoDecision? pending;
    private PlacementObservation? pendingObservation;
    private PlacementObservation? lastNext;

    // The exploring policy's entropy summed over the current (or last finished) episode's decisions. Reported alone, the
    // last decision's said mostly how many nodes were still feasible when the cluster filled: 0.000 with one left.
    private double episodeEntropy;
    private int episodeDecisions;

    public PpoPlacementAgent(FeatureLayout layout, PpoOptions? options = null) : base(Name, layout)
    {
        var o = options ?? new PpoOptions();
        var model = TorchRuntime.BuildSeeded(o.Seed, () => new ActorCritic(
            new NodeScorerNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes, outputGain: 0.01),
            new PooledCriticNetwork(layout.NodeFeatureCount, layout.PodFeatureCount, o.HiddenSizes)));
        model.eval();
        Learner = new PpoLearner<PlacementObservation>(model, Encoder, o);
    }

    internal PpoLearner<PlacementObservation> Learner { get; }
    internal override IPolicyLearner<PlacementObservation> PolicyLearner => Learner;
    public PpoOptions Options => Learner.Options;
    /// <summary>The mean entropy of the exploring policy over the current or last finished episode's decisions (NaN before any).</summary>
    public (string Name, double Value) Exploration => ("entropy", episodeDecisions == 0 ? double.NaN : episodeEntropy / episodeDecisions);

    public int Act(PlacementObservation observation, bool deterministic = true) =>
        Learner.Decide(observation, deterministic, withValue: false).Action;

    public void BeginEpisode() => (episodeEntropy, episodeDecisions) = (0, 0);

    public int ActForTraining(PlacementObservation observation)
    {
        var decision = Learner.Decide(observation, deterministic: false, withValue: true);
        episodeEntropy += Learner.LastEntropy;
        episodeDecisions++;
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

    /// <summary>Loads a saved PPO node-scorer model; throws <see cref="ModelLayoutMismatchException"/> if its features differ.</summary>
    /// <param name="options">Hyper-parameters for further training; hidden sizes always come from the model.</param>
    public static PpoPlacementAgent Load(string directory, FeatureLayout expectedLayout, PpoOptions? options = null) =>
        LoadModel(directory, Name, expectedLayout, metadata => new PpoPlacementAgent(expectedLayout,
            (options ?? new PpoOptions { Seed = metadata.Seed }) with { HiddenSizes = metadata.HiddenSizes }));
}
