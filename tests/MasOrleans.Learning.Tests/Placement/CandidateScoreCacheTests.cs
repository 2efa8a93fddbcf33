using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling;

namespace MasOrleans.Learning.Tests.Placement;

/// <summary>
/// Kept candidate scores (<see cref="CandidateScoreCache"/>) against a fresh forward over every candidate's features
/// (<see cref="CandidateBuilder.Build"/> + <see cref="LearnedDecisions.Scores"/>, the path without the cache): the same
/// scores bit for bit, through binds, unbinds and relabels, for pods that differ only in memory, and across a model swap.
/// Untrained networks (seeded) are used because their scores move with every feature, so a stale or misfiled score
/// changes the numbers; the shipped models are FGD-like and often agree for the wrong reason.
/// Kept scores are dropped whenever any weights in the process change (WeightGeneration), so these tests, which count
/// the rows run, do not run beside the tests that train.
/// </summary>
[Collection(WeightsUnchangedElsewhere.Name)]
public class CandidateScoreCacheTests
{
    private static readonly IReadOnlyList<IFilterPlugin> Filters = FilterSets.Create(FilterSets.Standard);

    /// <summary>Arrivals drawn from a 12-pod trace, so kinds of pod repeat as in a real trace (openb: 151 kinds in 8,152 pods).</summary>
    private static (ClusterState Cluster, IReadOnlyList<PodSpec> Arrivals, CandidateBuilder Builder) Setup(int shortlist)
    {
        var trace = SyntheticPaperCluster.Pods(count: 12);
        var cluster = ClusterState.Of(SyntheticPaperCluster.Nodes());
        var arrivals = PaperArrivals.Build(trace, cluster.GpuDeviceTotal * 1000L, 1.3, new Random(9));
        return (cluster, arrivals, new CandidateBuilder(new FragmentationModel(TypicalPods.From(trace)), shortlist));
    }

    /// <summary>The arrivals' first GPU pod on the fresh cluster (shortlist 8), with a cache beside the builder.</summary>
    private static (ClusterState Cluster, CandidateBuilder Builder, CandidateScoreCache Cache, PodSpec Pod) FirstGpuPod()
    {
        var (cluster, arrivals, builder) = Setup(8);
        return (cluster, builder, new CandidateScoreCache(builder), arrivals.First(p => p.Requests.GpuMilli > 0));
    }

    private static CandidateNodes CandidatesOf(ClusterState cluster, CandidateBuilder builder, PodSpec pod)
    {
        var feasible = new List<int>();
        PaperPlacementEnvironment.FeasibleNodes(cluster, pod, Filters, new Random(1), feasible);
        return builder.Select(cluster, pod, feasible.ToArray());
    }

    [Theory]
    [InlineData("ddqn", 8)]
    [InlineData("ppo", 8)]
    [InlineData("ddqn", 0)]
    public void Kept_scores_equal_a_fresh_forward_through_binds_unbinds_and_relabels(string algorithm, int shortlist)
    {
        using var agent = TestAgents.Create(algorithm, PlacementFeatures.Layout, seed: 21);
        var (cluster, arrivals, builder) = Setup(shortlist);
        var cache = new CandidateScoreCache(builder);
        var random = new Random(4);
        var feasible = new List<int>();
        var bound = new List<string>();
        long candidatesScored = 0;
        var decisions = 0;
        foreach (var pod in arrivals)
        {
            PaperPlacementEnvironment.FeasibleNodes(cluster, pod, Filters, random, feasible);
            if (feasible.Count == 0) continue;
            var candidates = builder.Select(cluster, pod, feasible.ToArray());
            var fresh = LearnedDecisions.Scores(agent, builder.Observe(cluster, pod, candidates));
            var kept = cache.Scores(agent, cluster, pod, candidates);
            Assert.Equal(fresh, kept);
            candidatesScored += candidates.Feasible.Count(f => f);
            decisions++;

            var chosen = LearnedDecisions.ChooseAmong(kept, candidates.Feasible);
            var node = candidates.Nodes[chosen];
            Assert.True(cluster.TryBind(node, pod, Scheduling.Plugins.Devices.BestFitDeviceSelector.Instance.Select(cluster, node, pod)));
            bound.Add(pod.Name);
            // Now and then a pod leaves, or a node's labels change (its version moves without a pod).
            if (decisions % 5 == 0) cluster.Unbind(bound[random.Next(bound.Count)]);
            if (decisions % 7 == 0)
            {
                var n = random.Next(cluster.NodeCount);
                cluster.UpdateNode(cluster.Spec(n) with { Labels = new Dictionary<string, string>(cluster.Spec(n).Labels ?? new Dictionary<string, string>()) { ["step"] = $"{decisions}" } });
            }
        }
        Assert.True(decisions > 50, $"only {decisions} decisions");
        // The cache did its job: well under one forward row per candidate (the trace repeats its kinds of pod).
        Assert.True(cache.ScoredRows < candidatesScored / 2, $"{cache.ScoredRows} rows run for {candidatesScored} candidates");
    }

    [Fact]
    public void Pods_that_differ_only_in_memory_keep_scores_of_their_own()
    {
        using var agent = TestAgents.Create("ddqn", PlacementFeatures.Layout, seed: 21);
        var (cluster, _, builder) = Setup(8);
        var cache = new CandidateScoreCache(builder);
        var small = new PodSpec { Name = "small", Requests = ResourceVector.Of(cpuMilli: 2000, memoryBytes: 1L << 30, gpuMilli: 500) };
        var large = small with { Name = "large", Requests = ResourceVector.Of(cpuMilli: 2000, memoryBytes: 200L << 30, gpuMilli: 500) };
        var candidates = CandidatesOf(cluster, builder, small);

        var keptSmall = cache.Scores(agent, cluster, small, candidates);
        var keptLarge = cache.Scores(agent, cluster, large, candidates);

        Assert.Equal(LearnedDecisions.Scores(agent, builder.Observe(cluster, large, candidates)), keptLarge);
        Assert.NotEqual(keptSmall, keptLarge); // pod_mem is an input: a cache keyed by FGD's shape alone would repeat keptSmall
        Assert.Equal(2 * candidates.Nodes.Length, cache.ScoredRows);
    }

    [Fact]
    public void Another_agent_and_a_prebuilt_observation_give_that_agents_scores()
    {
        using var first = TestAgents.Create("ddqn", PlacementFeatures.Layout, seed: 21);
        using var second = TestAgents.Create("ddqn", PlacementFeatures.Layout, seed: 22);
        var (cluster, builder, cache, pod) = FirstGpuPod();
        var candidates = CandidatesOf(cluster, builder, pod);
        var observation = builder.Observe(cluster, pod, candidates);

        var byFirst = cache.Scores(first, cluster, pod, candidates);
        var bySecond = cache.Scores(second, cluster, pod, candidates, observation);
        var again = cache.Scores(second, cluster, pod, candidates, observation);

        Assert.Equal(LearnedDecisions.Scores(first, observation), byFirst);
        Assert.Equal(LearnedDecisions.Scores(second, observation), bySecond);
        Assert.NotEqual(byFirst, bySecond);
        Assert.Equal(bySecond, again);
        Assert.Equal(2 * candidates.Nodes.Length, cache.ScoredRows); // the third call ran no row
    }

    [Fact]
    public void With_a_prebuilt_observation_the_missed_candidates_read_their_own_rows()
    {
        using var agent = TestAgents.Create("ddqn", PlacementFeatures.Layout, seed: 21);
        var (cluster, builder, cache, pod) = FirstGpuPod();
        var first = CandidatesOf(cluster, builder, pod);
        cache.Scores(agent, cluster, pod, first, builder.Observe(cluster, pod, first));
        // One candidate's node changes (not the first in the list): the next call mixes kept scores and one miss at
        // a position other than 0, where reading the miss's own row (not the k-th) matters.
        var changed = first.Nodes[^1];
        var other = new PodSpec { Name = "other", Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 1L << 30) };
        Assert.True(cluster.TryBind(changed, other, GpuAllocation.None));
        var second = CandidatesOf(cluster, builder, pod);
        var observed = builder.Observe(cluster, pod, second);
        var rowsBefore = cache.ScoredRows;

        var kept = cache.Scores(agent, cluster, pod, second, observed);

        Assert.Equal(LearnedDecisions.Scores(agent, observed), kept);
        Assert.InRange(cache.ScoredRows - rowsBefore, 1, second.Nodes.Length - 1); // some kept, some run again
    }

    [Fact]
    public void Training_the_agent_in_place_drops_its_kept_scores()
    {
        using var agent = TestAgents.Create("ddqn", PlacementFeatures.Layout, seed: 21);
        var (cluster, builder, cache, pod) = FirstGpuPod();
        var candidates = CandidatesOf(cluster, builder, pod);
        var observation = builder.Observe(cluster, pod, candidates);
        var before = cache.Scores(agent, cluster, pod, candidates);

        agent.Pretrain([(observation, candidates.Nodes.Length - 1)], epochs: 3, learningRate: 1e-2);
        var after = cache.Scores(agent, cluster, pod, candidates);

        Assert.NotEqual(before, after);
        Assert.Equal(LearnedDecisions.Scores(agent, observation), after);
    }

    [Theory]
    [InlineData("ddqn")]
    [InlineData("ppo")]
    public void The_policy_with_and_without_its_score_cache_places_every_pod_alike(string algorithm)
    {
        using var dir = new TempDirectory();
        var catalog = TestAgents.CatalogWithUntrained(algorithm, seed: 5, dir);
        var trace = SyntheticPaperCluster.Pods();
        PolicyOptions Options(string cache) => new() { TypicalPods = TypicalPods.From(trace), Settings = new Dictionary<string, string> { ["scoreCache"] = cache } };
        var cached = new ProfileScheduler(catalog.Create(algorithm, Options("on")));
        var uncached = new ProfileScheduler(catalog.Create(algorithm, Options("off")));
        var (a, b) = (ClusterState.Of(SyntheticPaperCluster.Nodes()), ClusterState.Of(SyntheticPaperCluster.Nodes()));
        var (randomA, randomB) = (new Random(3), new Random(3));
        var placed = 0;
        foreach (var pod in PaperArrivals.Build(trace, a.GpuDeviceTotal * 1000L, 1.3, new Random(9)))
        {
            var (x, y) = (cached.Schedule(a, pod, randomA), uncached.Schedule(b, pod, randomB));
            Assert.Equal((y.Success, y.Node, string.Join(",", y.Gpus.Devices), y.Gpus.MilliPerDevice), (x.Success, x.Node, string.Join(",", x.Gpus.Devices), x.Gpus.MilliPerDevice));
            if (!x.Success) continue;
            Assert.True(a.TryBind(x.Node, pod, x.Gpus) && b.TryBind(y.Node, pod, y.Gpus));
            placed++;
        }
        Assert.True(placed > 50, $"placed {placed}");
        var error = Assert.Throws<UserArgumentException>(() => catalog.Create(algorithm, Options("sometimes")));
        Assert.Contains("scoreCache", error.Message);
    }
}

/// <summary>Tests that count forward rows run alone: training in a parallel test would drop every kept score.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WeightsUnchangedElsewhere
{
    public const string Name = "weights unchanged elsewhere";
}
