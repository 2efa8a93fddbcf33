namespace MasOrleans.Learning;

/// <summary>A learning placement policy: decides, learns from transitions, warm-starts from an expert, saves itself.</summary>
public interface IPlacementAgent : IDisposable
{
    /// <summary>"ppo" or "ddqn".</summary>
    string Algorithm { get; }
    FeatureLayout Layout { get; }
    int Seed { get; }

    /// <summary>Chooses a feasible node. Deterministic: greedy/argmax; otherwise PPO samples, DDQN is still greedy.</summary>
    int Act(PlacementObservation observation, bool deterministic = true);

    /// <summary>Greedy decisions for many observations in one batched forward (the inference fast path).</summary>
    int[] ActBatch(IReadOnlyList<PlacementObservation> observations);

    /// <summary>
    /// Called by the <see cref="Trainer"/> before each episode's first decision: per-episode figures (PPO's mean entropy)
    /// start again here, as an episode the trainer cuts at MaxStepsPerEpisode ends with no Done step to tell the agent.
    /// </summary>
    void BeginEpisode() { }

    /// <summary>Exploring decision during training (ε-greedy / policy sampling). Follow with <see cref="Record"/>.</summary>
    int ActForTraining(PlacementObservation observation);

    /// <summary>Feeds back the outcome of <see cref="ActForTraining"/>; returns stats when it triggered an update.</summary>
    UpdateStats? Record(PlacementObservation observation, int action, StepResult result);

    /// <summary>Uses anything still buffered (PPO's partial rollout). Call once when training ends.</summary>
    UpdateStats? FinishTraining();

    /// <summary>Current exploration indicator: ("epsilon", ε) for DDQN, ("entropy", H) for PPO.</summary>
    (string Name, double Value) Exploration { get; }

    /// <summary>Behaviour cloning from expert (e.g. FGD/BestFit) decisions; cross-entropy over masked scores.</summary>
    /// <param name="learningRate">Step size for the warm start only (null: the agent's RL rate); the RL rate is restored after.</param>
    UpdateStats Pretrain(IEnumerable<(PlacementObservation obs, int expertAction)> demonstrations, int epochs, double? learningRate = null);

    void Save(string directory, ModelProvenance? provenance = null);
}
