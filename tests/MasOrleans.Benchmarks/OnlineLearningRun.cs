using System.Diagnostics;
using MasOrleans.Learning;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Benchmarks;

/// <summary>
/// What the silo's online learning does to a shipped model, replayed on the FGD paper's protocol with the very code
/// the silo runs: decisions through a <see cref="LiveModelSlot"/>, rewards as the environment (= the silo) computes
/// them, rounds of <see cref="OnlineTrainer"/> with the silo's default options every 256 transitions, each result
/// published to the slot. Arrival seeds 2000+ (neither training's 1000+ nor the held-out 42..51); then the base model
/// and the tuned one are evaluated on 42..51. Also times a round against the decisions it learns from.
/// dotnet run -c Release --project tests/MasOrleans.Benchmarks -- online [--algo ddqn|ppo] [--episodes 2] [--round 256] [--lr x] [--margin m] [--expert-weight w]
/// </summary>
internal static class OnlineLearningRun
{
    public static int Run(string[] args)
    {
        var algorithms = Option(args, "--algo") is { } a ? [a] : LearnedPolicies.Algorithms.ToArray();
        var episodes = int.Parse(Option(args, "--episodes") ?? "2");
        var roundSize = int.Parse(Option(args, "--round") ?? "256");
        var options = new OnlineTrainingOptions();
        if (Option(args, "--lr") is { } lr) options = options with { LearningRate = double.Parse(lr, System.Globalization.CultureInfo.InvariantCulture) };
        if (Option(args, "--margin") is { } margin) options = options with { ExpertMargin = double.Parse(margin, System.Globalization.CultureInfo.InvariantCulture) };
        if (Option(args, "--expert-weight") is { } weight) options = options with { PpoExpertWeight = double.Parse(weight, System.Globalization.CultureInfo.InvariantCulture) };
        Console.WriteLine($"online options: {options}");
        var repository = Path.GetDirectoryName(Path.GetDirectoryName(LearnedPolicies.LocateShipped("ddqn")))!;
        var traces = Path.Combine(repository, "data", "traces", "openb");
        var nodes = TraceLoader.LoadNodes(Path.Combine(traces, "openb_node_list_gpu_node.csv"));
        var pods = TraceLoader.LoadPods(Path.Combine(traces, "openb_pod_list_default.csv")).Pods.Select(p => p.Pod).ToList();
        var heldOut = Enumerable.Range(42, 10).ToArray();

        Console.WriteLine("| algo | episodes | rounds | transitions | decision mean | round mean | round / decision | base 42..51 | tuned 42..51 | change |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var algorithm in algorithms)
        {
            var basePackage = ModelPackage.FromDirectory(LearnedPolicies.LocateShipped(algorithm));
            var shortlist = (int)basePackage.Metadata.TrainingMetrics.GetValueOrDefault(LearnedPolicies.ShortlistMetric, 32);
            var env = new PaperPlacementEnvironment(nodes, pods, new PaperEnvironmentOptions { Shortlist = shortlist });
            var slot = new LiveModelSlot(algorithm, 1, basePackage);
            using var trainer = new OnlineTrainer(basePackage, options);
            var decisionTime = TimeSpan.Zero;
            var roundTime = TimeSpan.Zero;
            int decisions = 0, rounds = 0, transitions = 0, version = 1;
            for (var e = 0; e < episodes; e++)
            {
                var observation = env.Reset(2000 + e);
                var segment = new List<PlacementDecision>();
                while (true)
                {
                    var started = Stopwatch.GetTimestamp();
                    var action = slot.Use((agent, _) => LearnedDecisions.Choose(agent, observation));
                    decisionTime += Stopwatch.GetElapsedTime(started);
                    decisions++;
                    var step = env.Step(action);
                    segment.Add(new PlacementDecision(observation, action, step.Reward));
                    if (step.Next is null) break;
                    observation = step.Next;
                    if (segment.Count <= roundSize) continue;
                    started = Stopwatch.GetTimestamp();
                    // The last decision only supplies its predecessor's next state here; it starts the next segment as a whole transition.
                    var round = trainer.Train([new ExperienceSegment(version, segment)]);
                    slot.Publish(++version, trainer.Export());
                    roundTime += Stopwatch.GetElapsedTime(started);
                    rounds++;
                    transitions += round.Transitions;
                    segment = [segment[^1]];
                }
            }
            using var baseAgent = basePackage.LoadAgent();
            var before = heldOut.Average(seed => PlacementTraining.Evaluate(env, baseAgent, seed));
            var after = slot.Use((agent, _) => heldOut.Average(seed => PlacementTraining.Evaluate(env, agent, seed)));
            var decisionMean = decisionTime.TotalMilliseconds / Math.Max(1, decisions);
            var roundMean = roundTime.TotalMilliseconds / Math.Max(1, rounds);
            Console.WriteLine($"| {algorithm} | {episodes} | {rounds} | {transitions} | {decisionMean:F3} ms | {roundMean:F1} ms | {roundMean / decisionMean:F0}x | {before:F2} | {after:F2} | {after - before:+0.00;-0.00} |");
        }
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
