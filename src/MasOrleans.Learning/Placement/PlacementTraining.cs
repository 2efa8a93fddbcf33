using MasOrleans.Scheduling;
using System.Diagnostics;
using MasOrleans.Learning.Online;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Placement;

public sealed record PlacementTrainingOptions
{
    /// <summary>"ddqn" or "ppo".</summary>
    public required string Algorithm { get; init; }
    /// <summary>RL episodes; episode e replays the paper arrivals with seed Seed + e.</summary>
    public int Episodes { get; init; } = 20;
    public int Seed { get; init; } = 1000;
    /// <summary>Behaviour-cloning expert (a catalog policy, e.g. fgd or best-fit); null skips the warm start.</summary>
    public string? PretrainExpert { get; init; }
    public int PretrainEpisodes { get; init; } = 2;
    public int PretrainEpochs { get; init; } = 4;
    /// <summary>Behaviour cloning's step size (larger than the fine-tuning rate: the warm start learns from scratch).</summary>
    public double PretrainLearningRate { get; init; } = 1e-3;
    /// <summary>0 = the whole cluster; otherwise this many nodes drawn with <see cref="ClusterSampler"/>.</summary>
    public int SampleNodes { get; init; }
    public IReadOnlyList<int> HiddenSizes { get; init; } = [32, 32];
    /// <summary>RL fine-tuning rate; null: <see cref="DefaultLearningRate"/>.</summary>
    public double? LearningRate { get; init; }
    public double EffectiveLearningRate => LearningRate ?? DefaultLearningRate(Algorithm);
    /// <summary>Discount; null: <see cref="DefaultGamma"/>.</summary>
    public double? Gamma { get; init; }
    public double EffectiveGamma => Gamma ?? DefaultGamma(Algorithm);

    /// <summary>
    /// The RL phase's rate: 5e-5 (DDQN) / 3e-5 (PPO), small so RL refines rather than erases the warm start. Online
    /// rounds continue with the same rate.
    /// </summary>
    public static double DefaultLearningRate(string algorithm) => algorithm == "ddqn" ? 5e-5 : 3e-5;

    /// <summary>The discount: 0.9 (DDQN) / 0.99 (PPO).</summary>
    public static double DefaultGamma(string algorithm) => algorithm == "ddqn" ? 0.9 : 0.99;
    /// <summary>Greedy validation on a held-out training seed every this many episodes; the best checkpoint is kept.</summary>
    public int ValidateEvery { get; init; } = 2;
    public PaperEnvironmentOptions Environment { get; init; } = new();

    /// <summary>
    /// Every arrival seed the run uses, as ranges (RL episodes, demonstrations, validation), to check against the
    /// evaluation seeds and int's range: computed in long, where seed + e cannot wrap round.
    /// </summary>
    public IEnumerable<(string Use, long From, long To)> SeedRanges()
    {
        if (Episodes > 0) yield return ($"the {Episodes} RL episodes' arrival seeds", Seed, (long)Seed + Episodes - 1);
        if (PretrainExpert is not null && PretrainEpisodes > 0)
            yield return ($"the {PretrainEpisodes} demonstrations' arrival seeds", (long)Seed + DemoSeedOffset, (long)Seed + DemoSeedOffset + PretrainEpisodes - 1);
        yield return ("the validation arrival seed", (long)Seed + ValidationSeedOffset, (long)Seed + ValidationSeedOffset);
    }

    private const int DemoSeedOffset = 10_000, ValidationSeedOffset = 20_000;

    public int DemoSeed(int episode) => Seed + DemoSeedOffset + episode;
    public int ValidationSeed => Seed + ValidationSeedOffset;
}

/// <summary>One point of the training curve. Episode 0 is the warm start (after behaviour cloning, if any).</summary>
public sealed record TrainingPoint(string Phase, int Episode, double Reward, double GpuAllocPercent, double? ValidationAllocPercent,
    string ExplorationName, double ExplorationValue, TimeSpan Elapsed);

/// <param name="Model">The best validated checkpoint, with the whole run's metrics; written nowhere yet.</param>
public sealed record PlacementTrainingResult(
    IReadOnlyList<TrainingPoint> Curve, double BestValidationAlloc, int BestEpisode, TimeSpan Elapsed, IReadOnlyDictionary<string, double> Metrics,
    ModelPackage Model);

/// <summary>
/// The training recipe behind `mas train`: expert demonstrations on the real environment → behaviour cloning →
/// RL fine-tuning (DDQN or PPO) with greedy validation on a held-out training seed; the best validated checkpoint
/// is the result. Never touches the evaluation seeds unless the caller passes them.
/// </summary>
/// <remarks>
/// The checkpoint is kept in memory and the caller writes it when the run has ended: saved into the output directory as
/// training went, an interrupted run (Ctrl+C) left its checkpoint there, metadata.json naming the whole run, in place
/// of the model that was there, for every loader to take as finished.
/// </remarks>
public static class PlacementTraining
{
    /// <summary>
    /// Why so many episodes cannot train, or null: no RL episode and no behaviour cloning leaves no checkpoint, and the
    /// untrained network is never the model. Run refuses it; mas train checks it before it loads traces or makes --output.
    /// </summary>
    public static string? EpisodesRefused(int episodes, bool pretrain) => episodes < 1 && !pretrain
        ? $"--episodes must be at least 1 without --pretrain (0 would save the untrained network as the model), was {episodes}."
        : null;

    public static PlacementTrainingResult Run(
        IReadOnlyList<NodeSpec> nodes, IReadOnlyList<PodSpec> pods, PlacementTrainingOptions options, ModelProvenance provenance, Action<TrainingPoint>? onPoint = null, CancellationToken cancellationToken = default)
    {
        if (EpisodesRefused(options.Episodes, options.PretrainExpert is not null) is { } refused) throw new UserArgumentException(refused);
        var clock = Stopwatch.StartNew();
        // What was applied, for the model's metadata: a sample as large as the cluster (or larger) is the whole cluster, 0.
        var sampledNodes = options.SampleNodes > 0 && options.SampleNodes < nodes.Count ? options.SampleNodes : 0;
        if (sampledNodes > 0) (nodes, pods) = ClusterSampler.Sample(nodes, pods, sampledNodes, options.Seed);
        var env = new PaperPlacementEnvironment(nodes, pods, options.Environment);
        var validationEnv = new PaperPlacementEnvironment(nodes, pods, options.Environment);
        using var agent = CreateAgent(options);
        var curve = new List<TrainingPoint>();
        double best = double.NegativeInfinity;
        int bestEpisode = -1;
        double bcLoss = double.NaN;
        ModelPackage? checkpoint = null;

        // Without behaviour cloning the warm start is the untrained network: on the curve, but never the model saved
        // (--episodes 0 is refused for that; a first RL episode validating lower saved it all the same).
        void Validate(string phase, int episode, double reward, double trainAlloc, bool candidate = true)
        {
            var alloc = Evaluate(validationEnv, agent, options.ValidationSeed);
            if (candidate && alloc > best)
            {
                best = alloc;
                bestEpisode = episode;
                checkpoint = ModelPackage.FromAgent(agent, provenance);
            }
            var (name, value) = agent.Exploration;
            Report(new TrainingPoint(phase, episode, reward, trainAlloc, alloc, name, value, clock.Elapsed));
        }

        void Report(TrainingPoint point)
        {
            curve.Add(point);
            onPoint?.Invoke(point);
        }

        if (options.PretrainExpert is { } expertName)
        {
            var demos = CollectDemonstrations(env, expertName, options);
            // An expert's choice outside the shortlist is no label (CollectDemonstrations); none at all is the options' doing.
            if (demos.Count == 0)
                throw new UserArgumentException($"--pretrain {expertName} gave no demonstration: in {options.PretrainEpisodes} episode(s) it never chose one of the --shortlist {options.Environment.Shortlist} candidates; give a larger --shortlist (0 = every node) or another --pretrain expert");
            bcLoss = agent.Pretrain(demos, options.PretrainEpochs, options.PretrainLearningRate).Loss;
        }
        Validate("warm start", 0, double.NaN, double.NaN, candidate: options.PretrainExpert is not null);

        new Trainer(env, agent).Run(new TrainingRunOptions { Episodes = options.Episodes, Seed = options.Seed }, report =>
        {
            var episode = report.Episode + 1;
            var alloc = report.Info.GetValueOrDefault("gpu_alloc_percent", double.NaN);
            if (episode % Math.Max(1, options.ValidateEvery) == 0 || episode == options.Episodes)
                Validate("rl", episode, report.TotalReward, alloc);
            else
                Report(new TrainingPoint("rl", episode, report.TotalReward, alloc, null, report.ExplorationName, report.ExplorationValue, clock.Elapsed));
        }, cancellationToken);

        // The trainer stops early when cancelled: that is no finished run to hand out as one.
        cancellationToken.ThrowIfCancellationRequested();
        // The best checkpoint's weights, with the whole run's figures.
        var metrics = Metrics(options, sampledNodes, best, bestEpisode, bcLoss, clock.Elapsed);
        var model = checkpoint!.WithMetadata(checkpoint.Metadata with { TrainingMetrics = metrics });
        return new PlacementTrainingResult(curve, best, bestEpisode, clock.Elapsed, metrics, model);
    }

    public static IPlacementAgent CreateAgent(PlacementTrainingOptions options) => options.Algorithm switch
    {
        "ddqn" => new DdqnPlacementAgent(PlacementFeatures.Layout, new DdqnOptions
        {
            Seed = options.Seed,
            HiddenSizes = options.HiddenSizes,
            LearningRate = options.EffectiveLearningRate,
            Gamma = options.EffectiveGamma,
            BatchSize = 64,
            ReplayCapacity = 20_000,
            WarmupSteps = 1_000,
            TrainEvery = 4,
            TargetTau = 0.01,
            DemonstrationMargin = options.PretrainExpert is null ? 0 : 0.5,
            // A warm-started policy explores a little, then mostly exploits.
            Epsilon = options.PretrainExpert is null
                ? new EpsilonSchedule { Start = 1.0, End = 0.05, DecaySteps = 20_000 }
                : new EpsilonSchedule { Start = 0.1, End = 0.02, DecaySteps = 10_000 },
        }),
        "ppo" => new PpoPlacementAgent(PlacementFeatures.Layout, new PpoOptions
        {
            Seed = options.Seed,
            HiddenSizes = options.HiddenSizes,
            LearningRate = options.EffectiveLearningRate,
            Gamma = options.EffectiveGamma,
            RolloutSteps = 2048,
            MinibatchSize = 256,
            Epochs = 4,
            EntropyCoefficient = 0.001,
        }),
        var other => throw new UserArgumentException($"unknown algorithm '{other}' (known: ddqn, ppo)"),
    };

    /// <summary>Greedy replay of one seed's arrivals; returns the final GPU allocation %.</summary>
    public static double Evaluate(PaperPlacementEnvironment env, IPlacementAgent agent, int seed)
    {
        var observation = env.Reset(seed);
        while (true)
        {
            var result = env.Step(LearnedDecisions.Choose(agent, observation));
            if (result.Next is null) return env.GpuAllocationPercent;
            observation = result.Next;
        }
    }

    /// <summary>The expert (a real catalog policy on the environment's cluster) drives whole episodes; its choices are the labels.</summary>
    public static List<(PlacementObservation, int)> CollectDemonstrations(PaperPlacementEnvironment env, string expertName, PlacementTrainingOptions options)
    {
        var catalog = PolicyCatalog.CreateDefault();
        var demos = new List<(PlacementObservation, int)>();
        for (var e = 0; e < options.PretrainEpisodes; e++)
        {
            // A fresh scheduler per episode: its FGD cache follows one cluster instance.
            var expert = new ProfileScheduler(catalog.Create(expertName, new PolicyOptions { TypicalPods = env.TypicalPods }));
            var random = new Random(options.DemoSeed(e));
            var observation = env.Reset(options.DemoSeed(e));
            while (true)
            {
                var action = env.ExpertAction(expert, random);
                if (action >= 0) demos.Add((observation, action));
                var result = env.Step(action >= 0 ? action : 0); // not a candidate (other experts): follow the shortlist's first
                if (result.Next is null) break;
                observation = result.Next;
            }
        }
        return demos;
    }

    private static IReadOnlyDictionary<string, double> Metrics(PlacementTrainingOptions options, int sampledNodes, double best, int bestEpisode, double bcLoss, TimeSpan elapsed) =>
        new Dictionary<string, double>
        {
            ["validation_gpu_alloc_percent"] = best,
            ["best_episode"] = bestEpisode,
            ["behaviour_cloning_loss"] = bcLoss,
            ["wall_seconds"] = Math.Round(elapsed.TotalSeconds, 1),
            ["episodes"] = options.Episodes,
            [LearnedPolicies.ShortlistMetric] = options.Environment.Shortlist,
            ["sample_nodes"] = sampledNodes,
            [LearnedPolicies.FragmentationWeightMetric] = options.Environment.FragmentationWeight,
            ["tune"] = options.Environment.Tune,
            ["gamma"] = options.EffectiveGamma,
            ["pretrain_learning_rate"] = options.PretrainLearningRate,
        };
}
