using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Tests.Placement;

public class LearnedPolicyTests
{
    /// <summary>Real observations from a paper-protocol episode driven by the first feasible node.</summary>
    private static List<PlacementObservation> RealObservations(int count)
    {
        var env = new PaperPlacementEnvironment(SyntheticPaperCluster.Nodes(), SyntheticPaperCluster.Pods(), new PaperEnvironmentOptions { Shortlist = 0 });
        var observations = new List<PlacementObservation> { env.Reset(4) };
        while (observations.Count < count && env.Step(Array.IndexOf(observations[^1].Feasible, true)).Next is { } next) observations.Add(next);
        return observations;
    }

    [Theory]
    [InlineData("ppo")]
    [InlineData("ddqn")]
    public void Saved_and_loaded_models_choose_identically_on_real_observations(string algorithm)
    {
        using var dir = new TempDirectory();
        using var agent = TestAgents.Create(algorithm, PlacementFeatures.Layout, seed: 13);
        agent.Save(dir);
        using var loaded = LearnedDecisions.Load(dir, algorithm);
        var observations = RealObservations(60);
        var choices = observations.Select(o => LearnedDecisions.Choose(agent, o)).ToList();
        Assert.Equal(choices, observations.Select(o => LearnedDecisions.Choose(loaded, o)));
        Assert.Equal(LearnedDecisions.Scores(agent, observations[7]), LearnedDecisions.Scores(loaded, observations[7]));
        Assert.True(choices.Distinct().Count() > 1, "an untrained network should not always pick the same candidate");
    }

    [Theory]
    [InlineData("ppo")]
    [InlineData("ddqn")]
    public void Catalog_policy_places_only_on_feasible_nodes(string algorithm)
    {
        using var dir = new TempDirectory();
        var catalog = TestAgents.CatalogWithUntrained(algorithm, seed: 3, dir);
        var trace = SyntheticPaperCluster.Pods();
        var profile = catalog.Create(algorithm, new PolicyOptions { TypicalPods = TypicalPods.From(trace) });
        var scheduler = new ProfileScheduler(profile);
        var cluster = ClusterState.Of(SyntheticPaperCluster.Nodes());
        var feasible = new List<int>();
        var random = new Random(1);
        int placed = 0, failed = 0;
        foreach (var pod in PaperArrivals.Build(trace, cluster.GpuDeviceTotal * 1000L, 1.3, new Random(9)))
        {
            PaperPlacementEnvironment.FeasibleNodes(cluster, pod, FilterSets.Create(FilterSets.Standard), random, feasible);
            var result = scheduler.Schedule(cluster, pod, random);
            if (!result.Success)
            {
                Assert.Empty(feasible);
                failed++;
                continue;
            }
            Assert.Contains(result.Node, feasible);
            Assert.True(cluster.TryBind(result.Node, pod, result.Gpus));
            placed++;
        }
        Assert.True(placed > 50 && failed > 0, $"placed {placed}, failed {failed}");
    }

    /// <summary>
    /// POST /api/v1/scheduler/explain with "policy":"ddqn" for a pod no node fits answered 500: Explain ran the learned
    /// scorer's PreScore on no feasible nodes, and its candidate builder throws on none (kube-scheduler scores nothing then).
    /// </summary>
    [Theory]
    [InlineData("ppo")]
    [InlineData("ddqn")]
    public void Explain_of_a_pod_no_node_fits_gives_the_reasons_not_an_exception(string algorithm)
    {
        using var dir = new TempDirectory();
        var catalog = TestAgents.CatalogWithUntrained(algorithm, seed: 3, dir);
        var scheduler = new ProfileScheduler(catalog.Create(algorithm, new PolicyOptions { TypicalPods = TypicalPods.From(SyntheticPaperCluster.Pods()) }));
        var pod = new PodSpec { Name = "sixteen-gpus", Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 0, gpuMilli: 16_000) };
        var explained = scheduler.Explain(ClusterState.Of(SyntheticPaperCluster.Nodes()), pod, new Random(1));
        Assert.Null(explained.ChosenNode);
        Assert.Equal(22, explained.Nodes.Count);
        Assert.All(explained.Nodes, n => Assert.False(n.Feasible));
        // By hand from SyntheticPaperCluster (12 + 8 GPU nodes, 2 CPU nodes): the cordoned and the tainted CPU node fail before the resource fit; the 20 GPU
        // nodes (8 and 2 devices) lack 16 GPUs; FitError sorts the "count reason" strings bytewise.
        Assert.Equal("0/22 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 1 node(s) were unschedulable, 20 Insufficient nvidia.com/gpu.",
            explained.FailureMessage);
    }

    [Fact]
    public void Loading_a_model_with_another_feature_layout_is_a_clear_error()
    {
        using var dir = new TempDirectory();
        var other = FeatureLayout.Anonymous(PlacementFeatures.NodeFeatureCount, PlacementFeatures.PodFeatureCount);
        using (var agent = TestAgents.Create("ppo", other)) agent.Save(dir);
        var error = Assert.Throws<ModelLayoutMismatchException>(() => LearnedDecisions.Load(dir));
        Assert.Contains("fgd_score", error.Message);
        var catalog = PolicyCatalog.CreateDefault();
        LearnedPolicies.Register(catalog, new Dictionary<string, string> { ["ppo"] = dir });
        Assert.Throws<ModelLayoutMismatchException>(() => catalog.Create("ppo"));
    }

    /// <summary>
    /// A policy's agent is built from the package read once and hashed, through a scratch copy: its load errors name
    /// the model directory, not the copy.
    /// </summary>
    [Fact]
    public void A_learned_policys_load_errors_name_the_model_directory()
    {
        using var otherLayout = new TempDirectory();
        using (var agent = TestAgents.Create("ppo", FeatureLayout.Anonymous(PlacementFeatures.NodeFeatureCount, PlacementFeatures.PodFeatureCount))) agent.Save(otherLayout);
        var layout = Assert.Throws<ModelLayoutMismatchException>(() => LearnedPolicies.Load("ppo", otherLayout));
        Assert.Equal(Path.GetFullPath(otherLayout), layout.ModelDirectory);

        using var noWeights = new TempDirectory();
        using (var agent = TestAgents.Create("ddqn", PlacementFeatures.Layout)) agent.Save(noWeights);
        foreach (var weights in Directory.EnumerateFiles(noWeights, "*.weights")) File.Delete(weights);
        var missing = Assert.Throws<FileNotFoundException>(() => LearnedPolicies.Load("ddqn", noWeights));
        Assert.Contains($"'{Path.GetFullPath(noWeights)}'", missing.Message);
        Assert.StartsWith(Path.GetFullPath(noWeights), missing.FileName);
    }

    [Fact]
    public void A_model_of_the_other_algorithm_or_a_missing_model_is_a_clear_error()
    {
        using var dir = new TempDirectory();
        using (var agent = TestAgents.Create("ddqn", PlacementFeatures.Layout)) agent.Save(dir);
        Assert.Contains("needs a ppo model", Assert.Throws<InvalidDataException>(() => LearnedDecisions.Load(dir, "ppo")).Message);
        var missing = Assert.Throws<FileNotFoundException>(() => LearnedPolicies.LocateShipped("no-such-algorithm"));
        Assert.Contains("--model", missing.Message);
    }

    /// <summary>
    /// A model path that is a file is named as one, as ModelDirectory.CheckIsDirectory names it for every other reader:
    /// Load checked the directory a second time first, and said of the file that it did not exist.
    /// </summary>
    [Fact]
    public void Loading_from_a_file_says_it_is_a_file_and_from_nothing_that_it_does_not_exist()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir, "model.bin");
        File.WriteAllText(file, "not a model directory");
        Assert.Equal($"model directory '{file}' is a file, not a directory.", Assert.Throws<DirectoryNotFoundException>(() => LearnedDecisions.Load(file)).Message);
        var missing = Path.Combine(dir, "missing");
        Assert.Equal($"model directory '{missing}' does not exist.", Assert.Throws<DirectoryNotFoundException>(() => LearnedDecisions.Load(missing)).Message);
    }
}
