using System.Diagnostics;
using MasOrleans.Learning.Tests.Support;
using Xunit.Abstractions;

namespace MasOrleans.Learning.Tests.Agents;

public class TrainingTests(ITestOutputHelper output)
{
    private const int EvalEpisodes = 30;
    private const int EvalSeed = 1_000; // disjoint from training seeds

    /// <summary>The trainer reserved a report for every episode asked for: int.MaxValue was an OutOfMemoryException at once.</summary>
    [Fact]
    public void As_many_episodes_as_an_int_holds_train_until_cancelled()
    {
        using var agent = TestAgents.Create("ppo", PackingEnvironment.Layout, seed: 1);
        using var stop = new CancellationTokenSource();
        var summary = new Trainer(new PackingEnvironment(), agent).Run(
            new TrainingRunOptions { Episodes = int.MaxValue, Seed = 5 }, report => { if (report.Episode == 2) stop.Cancel(); }, stop.Token);
        Assert.Equal([0, 1, 2], summary.Episodes.Select(e => e.Episode));
    }

    /// <summary>
    /// PPO's reported entropy is the mean over the episode's decisions. It was the last decision's alone, which at a filled
    /// cluster mostly counts the nodes left: `mas train` printed "entropy 0.000" for an episode whose last pod had one
    /// feasible node. An untrained actor (output gain 0.01) is near uniform, so a decision among 4 feasible nodes has an
    /// entropy of about ln 4 and one with a single feasible node exactly 0.
    /// </summary>
    [Fact]
    public void Ppo_reports_the_mean_entropy_of_the_episodes_decisions()
    {
        using var agent = new PpoPlacementAgent(PackingEnvironment.Layout, new PpoOptions { Seed = 1, HiddenSizes = [8] });
        var features = new float[4 * PackingEnvironment.Layout.NodeFeatureCount];
        var open = new PlacementObservation(4, features, [0.2f, 0.2f], [true, true, true, true]);
        var lastNodeLeft = new PlacementObservation(4, features, [0.2f, 0.2f], [false, false, true, false]);
        Assert.True(double.IsNaN(agent.Exploration.Value), "no decision yet, no entropy");

        agent.BeginEpisode();
        agent.Record(open, agent.ActForTraining(open), new StepResult(lastNodeLeft, 1f, false));
        agent.Record(lastNodeLeft, agent.ActForTraining(lastNodeLeft), new StepResult(null, 1f, true));
        Assert.Equal("entropy", agent.Exploration.Name);
        Assert.InRange(agent.Exploration.Value, Math.Log(4) / 2 - 0.01, Math.Log(4) / 2 + 1e-9);

        // The next episode starts its own mean.
        agent.BeginEpisode();
        agent.Record(open, agent.ActForTraining(open), new StepResult(null, 1f, true));
        Assert.InRange(agent.Exploration.Value, Math.Log(4) - 0.02, Math.Log(4) + 1e-9);
    }

    /// <summary>
    /// An episode the trainer cuts at MaxStepsPerEpisode ends with no Done step: the next episode's mean entropy took the cut
    /// one's decisions in. Episode 0's one decision has four feasible nodes (entropy about ln 4 for the untrained, nearly
    /// uniform policy), episode 1's has one (entropy 0): episode 1 reports 0, not their mean of about ln 4 / 2.
    /// </summary>
    [Fact]
    public void Ppo_starts_each_episodes_entropy_mean_afresh_when_the_trainer_cuts_the_episode_before_it()
    {
        using var agent = new PpoPlacementAgent(PackingEnvironment.Layout, new PpoOptions { Seed = 1, HiddenSizes = [8] });
        var reports = new Trainer(new NeverDoneEnvironment(), agent).Run(new TrainingRunOptions { Episodes = 2, MaxStepsPerEpisode = 1 });
        Assert.InRange(reports.Episodes[0].ExplorationValue, Math.Log(4) - 0.02, Math.Log(4) + 1e-9);
        Assert.Equal(0, reports.Episodes[1].ExplorationValue, 1e-9);
    }

    /// <summary>Four nodes, all feasible at episode 0's reset and only one at later ones; no step is ever Done.</summary>
    private sealed class NeverDoneEnvironment : IPlacementEnvironment
    {
        private PlacementObservation current = null!;
        public int NodeFeatureCount => PackingEnvironment.Layout.NodeFeatureCount;
        public int PodFeatureCount => PackingEnvironment.Layout.PodFeatureCount;

        public PlacementObservation Reset(int seed) =>
            current = new(4, new float[4 * NodeFeatureCount], [0.2f, 0.2f], seed == 0 ? [true, true, true, true] : [false, false, true, false]);

        public StepResult Step(int action) => new(current, 0f, false);
    }

    [Fact]
    public void Ddqn_learns_to_pack()
    {
        using var agent = new DdqnPlacementAgent(PackingEnvironment.Layout, new DdqnOptions
        {
            Seed = 1,
            HiddenSizes = [32, 32],
            BatchSize = 32,
            WarmupSteps = 100,
            Gamma = 0.9,
            Epsilon = new EpsilonSchedule { Start = 1.0, End = 0.05, DecaySteps = 1_200 },
            TargetTau = 0.01,
        });
        AssertImproves(agent, episodes: 150);
    }

    [Fact]
    public void Ppo_learns_to_pack()
    {
        using var agent = new PpoPlacementAgent(PackingEnvironment.Layout, new PpoOptions
        {
            Seed = 1,
            HiddenSizes = [32, 32],
            LearningRate = 3e-3,
            RolloutSteps = 240,
            MinibatchSize = 60,
            Gamma = 0.9,
        });
        AssertImproves(agent, episodes: 200);
    }

    private void AssertImproves(IPlacementAgent agent, int episodes)
    {
        var env = new PackingEnvironment();
        double untrained = Trainer.Evaluate(env, agent, EvalEpisodes, EvalSeed);

        var reports = new List<EpisodeReport>();
        var watch = Stopwatch.StartNew();
        var summary = new Trainer(env, agent).Run(new TrainingRunOptions { Episodes = episodes, Seed = 0 }, reports.Add);
        watch.Stop();
        double trained = Trainer.Evaluate(env, agent, EvalEpisodes, EvalSeed);

        output.WriteLine($"{agent.Algorithm}: untrained {untrained:F2} → trained {trained:F2} (nodes opened per episode, negated); " +
                         $"{summary.TotalSteps} steps in {watch.Elapsed.TotalSeconds:F1}s = {watch.Elapsed.TotalMilliseconds / summary.TotalSteps:F2} ms/step; " +
                         $"last {reports[^1].ExplorationName} {reports[^1].ExplorationValue:F3}");

        Assert.Equal(episodes, reports.Count);
        Assert.All(reports, r => Assert.True(r.Info.ContainsKey("nodesUsed"), "environment Info reaches the callback"));
        Assert.Contains(reports, r => r.LastUpdate is not null);
        // Random placement opens ~6-7 of 8 nodes for 12 pods; packing needs ~3-4.
        Assert.True(trained >= untrained + 1.5, $"{agent.Algorithm} did not improve enough: untrained {untrained:F2}, trained {trained:F2}");
    }
}
