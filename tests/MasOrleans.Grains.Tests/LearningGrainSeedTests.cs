using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Learning;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using Orleans.TestingHost;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// Every trainer takes a seed: the learning grain's rounds (POST /api/v1/learning/{algo}/train takes no options) train with
/// Learning__Online__Seed, so a round is reproducible: the same seed, start model and experience give the same weights
/// as the trainer run on its own (OnlineTrainerTests shows another seed gives other weights).
/// </summary>
// Its round would count in LearningRoundCountTests' meter listener (the process's), which once saw a round trained.
[Collection(LearningMetricsCollection.Name)]
public sealed class LearningGrainSeedTests : IAsyncLifetime
{
    private const string Algorithm = "ddqn";
    private const int Seed = 7;

    private readonly SiloLog _log = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, new OutageNodeBindingStore(), new Dictionary<string, string?>
        {
            ["Learning:Online:Seed"] = $"{Seed}",
            ["Learning:Online:TrainIntervalSeconds"] = "3600",
        }, silo => silo.Services.AddMasOrleansOnlineLearning());
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    /// <summary>
    /// Decisions between two candidates with different features, the second rewarded: a segment the trainer learns from
    /// (its replay draws, which the seed fixes, pick among 39 transitions).
    /// </summary>
    internal static ExperienceBatch Experience()
    {
        var f = PlacementFeatures.NodeFeatureCount;
        var nodes = Enumerable.Range(0, 2 * f).Select(i => i < f ? 0.9f : 0.1f).ToArray();
        float[] pod = [0.1f, 0.05f, 0.125f, 1f, 0f, 0f, 0f];
        Assert.Equal(PlacementFeatures.PodFeatureCount, pod.Length);
        return new ExperienceBatch(1, Enumerable.Range(0, 40).Select(i => new ExperienceStep(2, nodes, pod, [true, true], i % 2, i % 2 == 1 ? 1f : -1f)).ToList());
    }

    private static byte[] Weights(IReadOnlyDictionary<string, byte[]> files) => files.Single(f => f.Key.EndsWith(".weights", StringComparison.Ordinal)).Value;

    [Fact]
    public async Task A_round_trains_with_the_configured_seed_and_gives_the_trainers_weights()
    {
        var learning = _cluster.Client.GetGrain<ILearningGrain>(Algorithm);
        var start = await learning.Sync(0, null);
        Assert.Equal(1, start.Version);
        var batch = Experience();
        Assert.Null(await learning.Record(batch));

        Assert.True((await learning.Train()).IsOk);

        var trained = await learning.Sync(start.Version, start.Digest);
        Assert.Equal(2, trained.Version);
        using var trainer = new OnlineTrainer(new ModelPackage(start.Files!), new OnlineTrainingOptions { Seed = Seed });
        trainer.Train([new ExperienceSegment(1, batch.Steps.Select(s =>
            new PlacementDecision(new MasOrleans.Learning.PlacementObservation(s.NodeCount, s.NodeFeatures, s.PodFeatures, s.Feasible), s.Action, s.Reward)).ToList())]);
        Assert.Equal(Weights(trainer.Export().Files), Weights(trained.Files!));
        Assert.NotEqual(Weights(start.Files!), Weights(trained.Files!));
    }
}
