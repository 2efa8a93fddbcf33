using System.Diagnostics;

namespace MasOrleans.Learning;

/// <summary>One finished training episode, for progress bars and logs.</summary>
public sealed record EpisodeReport(
    int Episode,
    double TotalReward,
    int Steps,
    string ExplorationName,
    double ExplorationValue,
    UpdateStats? LastUpdate,
    int Updates,
    IReadOnlyDictionary<string, double> Info,
    TimeSpan Elapsed);

public sealed record TrainingRunOptions
{
    public int Episodes { get; init; } = 100;
    /// <summary>Episode e resets the environment with Seed + e, so runs are reproducible.</summary>
    public int Seed { get; init; } = 0;
    /// <summary>Safety stop for environments that never report Done.</summary>
    public int MaxStepsPerEpisode { get; init; } = 100_000;
}

public sealed record TrainingSummary(IReadOnlyList<EpisodeReport> Episodes, TimeSpan Elapsed, long TotalSteps);

/// <summary>
/// The episode loop shared by every agent: act (exploring), step, record, repeat; reports each episode.
/// It holds no learning logic, so `mas train` can drive it with any agent and any environment.
/// </summary>
public sealed class Trainer(IPlacementEnvironment environment, IPlacementAgent agent)
{
    public TrainingSummary Run(TrainingRunOptions options, Action<EpisodeReport>? onEpisode = null, CancellationToken cancellationToken = default)
    {
        CheckShape();
        // Not sized by Episodes: a run of as many episodes as an int holds, ended by cancellation, is a valid request.
        var reports = new List<EpisodeReport>();
        var total = Stopwatch.StartNew();
        long totalSteps = 0;
        for (int episode = 0; episode < options.Episodes && !cancellationToken.IsCancellationRequested; episode++)
        {
            var watch = Stopwatch.StartNew();
            var observation = environment.Reset(options.Seed + episode);
            agent.BeginEpisode();
            double reward = 0;
            int steps = 0, updates = 0;
            UpdateStats? lastUpdate = null;
            IReadOnlyDictionary<string, double>? info = null;
            while (steps < options.MaxStepsPerEpisode)
            {
                int action = agent.ActForTraining(observation);
                var result = environment.Step(action);
                reward += result.Reward;
                steps++;
                info = result.Info ?? info;
                if (agent.Record(observation, action, result) is { } stats) { lastUpdate = stats; updates++; }
                if (result.Done || result.Next is null) break;
                observation = result.Next;
            }
            bool last = episode == options.Episodes - 1 || cancellationToken.IsCancellationRequested;
            if (last && agent.FinishTraining() is { } final) { lastUpdate = final; updates++; }
            totalSteps += steps;
            var (name, value) = agent.Exploration;
            var report = new EpisodeReport(episode, reward, steps, name, value, lastUpdate, updates,
                info ?? new Dictionary<string, double>(), watch.Elapsed);
            reports.Add(report);
            onEpisode?.Invoke(report);
        }
        return new TrainingSummary(reports, total.Elapsed, totalSteps);
    }

    /// <summary>Greedy rollouts without learning: mean episode reward over seeds Seed..Seed+episodes-1.</summary>
    public static double Evaluate(IPlacementEnvironment environment, IPlacementAgent agent, int episodes, int seed, int maxSteps = 100_000)
    {
        double sum = 0;
        for (int e = 0; e < episodes; e++)
        {
            var observation = environment.Reset(seed + e);
            for (int step = 0; step < maxSteps; step++)
            {
                var result = environment.Step(agent.Act(observation, deterministic: true));
                sum += result.Reward;
                if (result.Done || result.Next is null) break;
                observation = result.Next;
            }
        }
        return sum / episodes;
    }

    private void CheckShape()
    {
        if (environment.NodeFeatureCount != agent.Layout.NodeFeatureCount || environment.PodFeatureCount != agent.Layout.PodFeatureCount)
            throw new ArgumentException(
                $"Environment has {environment.NodeFeatureCount} node / {environment.PodFeatureCount} pod features; agent layout is {agent.Layout}.");
    }
}
