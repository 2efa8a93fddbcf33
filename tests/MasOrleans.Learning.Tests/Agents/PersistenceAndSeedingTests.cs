using MasOrleans.Learning.Tests.Support;

namespace MasOrleans.Learning.Tests.Agents;

public class PersistenceAndSeedingTests
{
    public static TheoryData<string> Algorithms => new(TestAgents.Algorithms);

    private static List<PlacementObservation> HeldOut() => PackingEnvironment.RandomRollouts(episodes: 10, seed: 99);

    /// <summary>A few episodes of real learning so weights are no longer the seeded initial ones.</summary>
    private static void TrainBriefly(IPlacementAgent agent) =>
        new Trainer(new PackingEnvironment(), agent).Run(new TrainingRunOptions { Episodes = 40, Seed = 5 });

    [Theory, MemberData(nameof(Algorithms))]
    public void Save_then_load_gives_identical_decisions_and_metadata(string algorithm)
    {
        using var dir = new TempDirectory();
        using var trained = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 21);
        TrainBriefly(trained);
        trained.Save(dir, new ModelProvenance(Trace: "synthetic", Command: "test", TrainingMetrics: new Dictionary<string, double> { ["reward"] = -3 }));

        using var loaded = TestAgents.Load(algorithm, dir, PackingEnvironment.Layout);
        var observations = HeldOut();
        Assert.Equal(observations.Select(o => trained.Act(o)), observations.Select(o => loaded.Act(o)));
        Assert.Equal(trained.ActBatch(observations), loaded.ActBatch(observations));
        Assert.Equal(21, loaded.Seed);

        var json = File.ReadAllText(Path.Combine(dir, "metadata.json"));
        foreach (var expected in new[] { $"\"algorithm\": \"{algorithm}\"", "\"trace\": \"synthetic\"", "\"usedCpu\"", "\"podMem\"", "\"hiddenSizes\"", "\"createdUtc\"", "\"reward\": -3" })
            Assert.Contains(expected, json);
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void Loading_with_a_different_feature_layout_throws_naming_both(string algorithm)
    {
        using var dir = new TempDirectory();
        using (var agent = TestAgents.Create(algorithm, PackingEnvironment.Layout)) agent.Save(dir);

        var other = new FeatureLayout(["usedCpu", "usedMem", "freeCpu", "freeMem", "gpuFree", "noise1", "noise2"], ["podCpu", "podMem"]);
        var e = Assert.Throws<ModelLayoutMismatchException>(() => TestAgents.Load(algorithm, dir, other));
        Assert.Contains("noise0", e.Message);
        Assert.Contains("gpuFree", e.Message);
        Assert.Equal(PackingEnvironment.Layout, e.SavedLayout);
        Assert.Equal(other, e.ExpectedLayout);
    }

    [Fact]
    public void Loading_a_model_of_the_other_algorithm_fails_clearly()
    {
        using var dir = new TempDirectory();
        using (var agent = TestAgents.Create("ppo", PackingEnvironment.Layout)) agent.Save(dir);
        var e = Assert.Throws<InvalidDataException>(() => DdqnPlacementAgent.Load(dir, PackingEnvironment.Layout));
        Assert.Contains("ppo", e.Message);
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void Same_seed_gives_identical_training_and_decisions(string algorithm)
    {
        using var a = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 3);
        using var b = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 3);
        var observations = HeldOut();
        // Exploring decisions use the agents' own seeded Random, so they match too.
        Assert.Equal(observations.Take(50).Select(o => a.Act(o)), observations.Take(50).Select(o => b.Act(o)));
        Assert.Equal(observations.Take(20).Select(o => a.Act(o, deterministic: false)), observations.Take(20).Select(o => b.Act(o, deterministic: false)));

        TrainBriefly(a);
        TrainBriefly(b);
        Assert.Equal(observations.Select(o => a.Act(o)), observations.Select(o => b.Act(o)));
        Assert.Equal(Parameters(a), Parameters(b));
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void Different_seeds_give_different_weights(string algorithm)
    {
        using var a = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 3);
        using var b = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 4);
        Assert.NotEqual(Parameters(a), Parameters(b));
    }

    private static float[] Parameters(IPlacementAgent agent)
    {
        using var _ = TorchSharp.torch.NewDisposeScope();
        return VectorModelFiles.Snapshot(((NodeScorerAgent)agent).PolicyLearner.Weights);
    }
}
