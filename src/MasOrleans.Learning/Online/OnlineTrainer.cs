using MasOrleans.Learning.Algorithms;
using MasOrleans.Learning.Networks;
using MasOrleans.Learning.Placement;

namespace MasOrleans.Learning.Online;

/// <summary>
/// Hyper-parameters of online fine-tuning; small steps, since the model starts from a trained one. The silo binds them
/// from "Learning:Online" (names are the configuration keys).
/// </summary>
public record OnlineTrainingOptions
{
    public int Seed { get; init; } = 42;
    /// <summary>Null: the offline RL phase's rate (DDQN 5e-5, PPO 3e-5), so online rounds continue that phase.</summary>
    public double? LearningRate { get; init; }
    public int BatchSize { get; init; } = 64;
    /// <summary>DDQN: gradient steps per round (the target network is synced at the end of each round).</summary>
    public int GradientSteps { get; init; } = 32;
    /// <summary>DDQN: transitions kept across rounds (oldest dropped first).</summary>
    public int ReplayCapacity { get; init; } = 20_000;
    /// <summary>
    /// DDQN: DQfD's large margin towards FGD's choice on the live states (candidate 0 of an FGD/BestFit shortlist), as
    /// in the offline RL phase; 0 turns it off. Without it, greedy live data lets the Q ranking drift (docs/learning.md).
    /// </summary>
    public double ExpertMargin { get; init; } = 0.5;
    /// <summary>
    /// PPO: weight of −log π(FGD's choice) on the live states, the policy-gradient counterpart of <see cref="ExpertMargin"/>.
    /// Off by default: at 0.1 it pulled PPO towards FGD's own, lower, allocation (docs/learning.md).
    /// </summary>
    public double PpoExpertWeight { get; init; }
    /// <summary>PPO: passes over each round's experience.</summary>
    public int PpoEpochs { get; init; } = 4;
    /// <summary>PPO: entropy bonus (the offline RL phase's 0.001).</summary>
    public double PpoEntropyCoefficient { get; init; } = 0.001;
}

/// <summary>What one online round did.</summary>
public sealed record OnlineRound(int Transitions, double Loss, int ReplaySize);

/// <summary>
/// Fine-tunes a deployed model on experience from live decisions. DDQN adds the transitions to its replay buffer
/// and takes <see cref="OnlineTrainingOptions.GradientSteps"/> Double-DQN steps; PPO takes one clipped update over
/// the round's transitions, with the current policy's log-probabilities as the old ones (the live decisions were
/// greedy, so there are no behaviour probabilities to use) and each segment's tail bootstrapped from V of its last
/// state. Same start model, options and experience give the same weights. Not thread-safe.
/// </summary>
public sealed class OnlineTrainer : IDisposable
{
    private readonly IPlacementAgent _agent;
    private readonly double _gamma;
    private readonly List<(PlacementObservation, int)> _anchors = [];

    public OnlineTrainer(ModelPackage start, OnlineTrainingOptions options)
    {
        Options = options;
        StartMetadata = start.Metadata;
        var algorithm = StartMetadata.Algorithm.ToLowerInvariant();
        _gamma = StartMetadata.TrainingMetrics.GetValueOrDefault("gamma", PlacementTrainingOptions.DefaultGamma(algorithm));
        _agent = start.WithScratchDirectory<IPlacementAgent>(dir => algorithm switch
        {
            "ddqn" => DdqnPlacementAgent.Load(dir, PlacementFeatures.Layout, new DdqnOptions
            {
                Seed = options.Seed,
                LearningRate = options.LearningRate ?? PlacementTrainingOptions.DefaultLearningRate(algorithm),
                BatchSize = options.BatchSize,
                Gamma = _gamma,
                ReplayCapacity = options.ReplayCapacity,
                TargetUpdateInterval = Math.Max(1, options.GradientSteps),
                DemonstrationMargin = AnchorsToFgd ? options.ExpertMargin : 0,
            }),
            "ppo" => PpoPlacementAgent.Load(dir, PlacementFeatures.Layout, new PpoOptions
            {
                Seed = options.Seed,
                LearningRate = options.LearningRate ?? PlacementTrainingOptions.DefaultLearningRate(algorithm),
                MinibatchSize = options.BatchSize,
                Gamma = _gamma,
                Epochs = options.PpoEpochs,
                EntropyCoefficient = options.PpoEntropyCoefficient,
                ExpertWeight = AnchorsToFgd ? options.PpoExpertWeight : 0,
            }),
            var other => throw new InvalidDataException($"online training supports ddqn and ppo models, not '{other}'"),
        });
    }

    public OnlineTrainingOptions Options { get; }
    public ModelMetadata StartMetadata { get; }

    /// <summary>With a shortlist, candidate 0 is FGD's choice, so the DDQN margin or the PPO expert term can anchor to it.</summary>
    private bool AnchorsToFgd => (string.Equals(StartMetadata.Algorithm, "ddqn", StringComparison.OrdinalIgnoreCase) ? Options.ExpertMargin : Options.PpoExpertWeight) > 0
        && StartMetadata.TrainingMetrics.GetValueOrDefault(LearnedPolicies.ShortlistMetric, new PaperEnvironmentOptions().Shortlist) > 0;
    public string Algorithm => _agent.Algorithm;
    public int Rounds { get; private set; }

    /// <summary>Why a segment cannot be learned from (wrong feature counts, an infeasible action), or null when it can.</summary>
    public static string? Validate(ExperienceSegment segment)
    {
        var layout = PlacementFeatures.Layout;
        for (var i = 0; i < segment.Steps.Count; i++)
        {
            var step = segment.Steps[i];
            try
            {
                ObservationValidation.Validate(step.Observation, layout.NodeFeatureCount, layout.PodFeatureCount);
            }
            catch (ArgumentException e)
            {
                return $"step {i}: {e.Message}";
            }
            if (step.Action < 0 || step.Action >= step.Observation.NodeCount || !step.Observation.Feasible[step.Action])
                return $"step {i}: action {step.Action} is not a feasible candidate";
            if (!float.IsFinite(step.Reward)) return $"step {i}: reward is not finite";
        }
        return null;
    }

    public OnlineRound Train(IReadOnlyList<ExperienceSegment> segments)
    {
        foreach (var segment in segments)
            if (Validate(segment) is { } error) throw new ArgumentException($"experience segment rejected: {error}", nameof(segments));
        TorchRuntime.UseSingleThread();
        var round = _agent switch
        {
            DdqnPlacementAgent ddqn => TrainDdqn(ddqn, segments),
            PpoPlacementAgent ppo => TrainPpo(ppo, segments),
            _ => throw new InvalidOperationException($"{_agent.GetType().Name} cannot train online"),
        };
        Rounds++;
        return round;
    }

    /// <summary>The current weights as a package; metadata keeps the start model's provenance plus the online figures.</summary>
    public ModelPackage Export(IReadOnlyDictionary<string, double>? onlineMetrics = null)
    {
        var metrics = new Dictionary<string, double>(StartMetadata.TrainingMetrics);
        foreach (var (key, value) in onlineMetrics ?? new Dictionary<string, double>()) metrics[key] = value;
        return ModelPackage.FromAgent(_agent, new ModelProvenance(StartMetadata.Trace, "online fine-tuning in the silo (see docs/learning.md)", metrics));
    }

    private OnlineRound TrainDdqn(DdqnPlacementAgent agent, IReadOnlyList<ExperienceSegment> segments)
    {
        var learner = agent.Learner;
        var added = 0;
        foreach (var segment in segments)
        {
            for (var i = 0; i + 1 < segment.Steps.Count; i++)
            {
                var step = segment.Steps[i];
                learner.Replay.Add(new DdqnTransition<PlacementObservation>(step.Observation, step.Action, step.Reward, segment.Steps[i + 1].Observation, false));
                added++;
            }
        }
        if (learner.Replay.Count == 0) return new OnlineRound(0, double.NaN, 0);
        if (AnchorsToFgd)
        {
            _anchors.AddRange(segments.SelectMany(s => s.Steps.Take(s.Steps.Count - 1)).Select(s => (s.Observation, 0)));
            if (_anchors.Count > Options.ReplayCapacity) _anchors.RemoveRange(0, _anchors.Count - Options.ReplayCapacity);
            learner.UseDemonstrations(_anchors);
        }
        double loss = 0;
        for (var k = 0; k < Options.GradientSteps; k++) loss += learner.TrainStep();
        return new OnlineRound(added, loss / Math.Max(1, Options.GradientSteps), learner.Replay.Count);
    }

    private OnlineRound TrainPpo(PpoPlacementAgent agent, IReadOnlyList<ExperienceSegment> segments)
    {
        var learner = agent.Learner;
        var rollout = new List<PpoTransition<PlacementObservation>>();
        foreach (var segment in segments)
        {
            if (segment.Steps.Count < 2) continue;
            var (logProbs, values) = learner.Evaluate(segment.Steps.Select(s => s.Observation).ToArray(), segment.Steps.Select(s => s.Action).ToArray());
            var last = segment.Steps.Count - 2;
            for (var i = 0; i <= last; i++)
            {
                var step = segment.Steps[i];
                // The segment's last step only gives the state its predecessor led to: bootstrap from its value and end there.
                var reward = i == last ? step.Reward + (float)(_gamma * values[i + 1]) : step.Reward;
                rollout.Add(new PpoTransition<PlacementObservation>(step.Observation, step.Action, logProbs[i], values[i], reward, i == last,
                    AnchorsToFgd ? 0 : -1));
            }
        }
        if (rollout.Count == 0) return new OnlineRound(0, double.NaN, 0);
        var stats = learner.Update(rollout, 0f);
        return new OnlineRound(rollout.Count, stats.Loss, 0);
    }

    public void Dispose() => _agent.Dispose();
}
