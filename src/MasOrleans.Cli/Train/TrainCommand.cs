using MasOrleans.Scheduling;
using System.CommandLine;
using System.Globalization;
using MasOrleans.Learning;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Cli.Train;

/// <summary>`mas train`: trains a DDQN or PPO placement policy on the paper protocol and writes a model directory.</summary>
internal static class TrainCommand
{
    /// <summary>The paper's evaluation seeds: training must never see them.</summary>
    public static readonly (int From, int To) EvaluationSeeds = (42, 51);

    public static Command Create()
    {
        var algo = new Option<string>("--algo") { Description = "ddqn or ppo", Required = true };
        algo.AcceptOnlyFromAmong("ddqn", "ppo");
        var nodes = new Option<string>("--nodes") { Description = $"{TraceFormats.OpenbNodes}, or a generator spec", Required = true };
        var pods = new Option<string>("--pods") { Description = $"Pod trace: {TraceFormats.OpenbPods}", Required = true };
        var episodes = new Option<int>("--episodes") { Description = "RL fine-tuning episodes (episode e uses arrival seed seed+e)", DefaultValueFactory = _ => 20 }.MustBeAtLeast(0);
        var seed = new Option<int>("--seed") { Description = "Base seed (network init, exploration, arrivals); must keep every used seed outside 42..51", DefaultValueFactory = _ => 1000 };
        var output = new Option<string>("--output") { Description = "Model directory to write (metadata.json, weights, training-curve.png)", Required = true };
        var pretrain = new Option<string?>("--pretrain") { Description = "Behaviour-cloning expert before RL: fgd or best-fit (any catalog policy)" };
        pretrain.Validators.Add(result =>
        {
            // Known only when the demonstrations start: checked here, before the traces load and --output is made.
            var catalog = PolicyCatalog.CreateDefault();
            if (result.GetValueOrDefault<string?>() is { } expert && !catalog.Contains(expert)) result.AddError($"--pretrain: {catalog.UnknownPolicyMessage(expert)}");
        });
        // 0 episodes is behaviour cloning alone with --pretrain; the rule is PlacementTraining's, checked here before anything loads.
        episodes.Validators.Add(result =>
        {
            // A negative count is refused as such (MustBeAtLeast) and is not this rule's.
            if (result.GetValueOrDefault<int>() is var n and >= 0 && PlacementTraining.EpisodesRefused(n, result.GetResult(pretrain) is not null) is { } refused)
                result.AddError(refused);
        });
        var pretrainEpisodes = new Option<int>("--pretrain-episodes") { Description = "Expert episodes recorded for behaviour cloning", DefaultValueFactory = _ => 2 }.MustBeAtLeast(1);
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Behaviour-cloning epochs over the recorded decisions", DefaultValueFactory = _ => 4 }.MustBeAtLeast(1);
        var sample = new Option<int>("--sample-nodes") { Description = "Train on this many sampled nodes (trace scaled to match); 0 = whole cluster", DefaultValueFactory = _ => 0 }.MustBeAtLeast(0);
        var shortlist = new Option<int>("--shortlist") { Description = "Candidates per decision (half FGD's best, half BestFit's); 0 = every node", DefaultValueFactory = _ => 32 }.MustBeAtLeast(0);
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes, comma-separated", DefaultValueFactory = _ => "32,32" };
        var rate = new Option<double?>("--lr") { Description = "RL fine-tuning learning rate (default 5e-5 DDQN, 3e-5 PPO)" }.MustBePositive();
        var pretrainRate = new Option<double>("--pretrain-lr") { Description = "Behaviour-cloning learning rate", DefaultValueFactory = _ => 1e-3 }.MustBePositive();
        var gamma = new Option<double?>("--gamma") { Description = "Discount (default 0.9 DDQN, 0.99 PPO)" }.Must(g => g is not { } v || v is > 0 and <= 1, "a number in (0, 1]");
        var fragWeight = new Option<double>("--frag-weight") { Description = "α: reward = placed GPUs − α·Δfragmentation (GPUs)", DefaultValueFactory = _ => 1.0 }.MustBeFinite();
        var validateEvery = new Option<int>("--validate-every") { Description = "Greedy validation (held-out training seed) every n episodes; the best checkpoint is saved", DefaultValueFactory = _ => 2 }.MustBeAtLeast(1);
        var tune = new Option<double>("--tune") { Description = "Paper protocol: arrivals up to this multiple of cluster GPU capacity", DefaultValueFactory = _ => 1.3 }.MustBeTune();

        var command = new Command("train", "Train a DDQN or PPO placement policy (behaviour cloning + RL) on the FGD paper's protocol.")
        {
            algo, nodes, pods, episodes, seed, output, pretrain, pretrainEpisodes, pretrainEpochs, sample, shortlist, hidden, rate, pretrainRate, gamma, fragWeight, validateEvery, tune,
        };
        command.SetAction(parse =>
        {
            var options = new PlacementTrainingOptions
            {
                Algorithm = parse.GetValue(algo)!,
                Episodes = parse.GetValue(episodes),
                Seed = parse.GetValue(seed),
                PretrainExpert = parse.GetValue(pretrain),
                PretrainEpisodes = parse.GetValue(pretrainEpisodes),
                PretrainEpochs = parse.GetValue(pretrainEpochs),
                SampleNodes = parse.GetValue(sample),
                HiddenSizes = ParseHidden(parse.GetValue(hidden)!),
                LearningRate = parse.GetValue(rate),
                PretrainLearningRate = parse.GetValue(pretrainRate),
                Gamma = parse.GetValue(gamma),
                ValidateEvery = parse.GetValue(validateEvery),
                Environment = new PaperEnvironmentOptions
                {
                    Shortlist = parse.GetValue(shortlist),
                    FragmentationWeight = parse.GetValue(fragWeight),
                    Tune = parse.GetValue(tune),
                },
            };
            var seeds = options.SeedRanges().ToList();
            if (seeds.FirstOrDefault(r => r.To > int.MaxValue) is { Use: not null } beyond)
                throw new UserArgumentException($"--seed {options.Seed} would use {beyond.Use}{(beyond.From == beyond.To ? "" : " up to")} {beyond.To}, " +
                                            $"past the largest seed {int.MaxValue}; pick a smaller --seed or fewer episodes");
            var overlap = seeds
                .SelectMany(r => Range(Math.Max(r.From, EvaluationSeeds.From), Math.Min(r.To, EvaluationSeeds.To)))
                .Distinct().Order().ToList();
            if (overlap.Count > 0)
                throw new UserArgumentException($"training would use evaluation seed(s) {string.Join(", ", overlap)} (42..51 are for evaluation); pick another --seed, e.g. 1000");
            TrainJob.Run(options, parse.GetValue(nodes)!, parse.GetValue(pods)!, parse.GetValue(output)!, CommandLines.AsGiven(parse, "train"));
            return 0;
        });
        command.Needs(pretrain, pretrainEpisodes, pretrainEpochs, pretrainRate);
        return command.ChecksOptionValues();
    }

    private static IEnumerable<long> Range(long from, long to)
    {
        for (var s = from; s <= to; s++) yield return s;
    }

    public static IReadOnlyList<int> ParseHidden(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new FormatException($"--hidden '{text}' is not a list of positive sizes like 32,32"))
            .ToArray() is { Length: > 0 } sizes ? sizes : throw new FormatException("--hidden needs at least one size");
}
