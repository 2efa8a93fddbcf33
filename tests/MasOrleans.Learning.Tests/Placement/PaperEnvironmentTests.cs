using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Tests.Placement;

public class PaperEnvironmentTests
{
    private static PaperPlacementEnvironment Environment(int shortlist) =>
        new(SyntheticPaperCluster.Nodes(), SyntheticPaperCluster.Pods(), new PaperEnvironmentOptions { Shortlist = shortlist });

    [Theory]
    [InlineData("ppo", 0)]
    [InlineData("ddqn", 0)]
    [InlineData("ppo", 8)]
    public void Agents_never_pick_a_node_the_filters_or_FitsResources_reject(string algorithm, int shortlist)
    {
        var env = Environment(shortlist);
        using var agent = TestAgents.Create(algorithm, PlacementFeatures.Layout);
        var filters = FilterSets.Create(FilterSets.Standard);
        var feasible = new List<int>();
        int steps = 0, masked = 0;
        var observation = env.Reset(11);
        while (true)
        {
            // The mask must be exactly "passes every standard filter and fits" for each candidate.
            PaperPlacementEnvironment.FeasibleNodes(env.Cluster, env.CurrentPod!, filters, new Random(0), feasible);
            var candidates = env.Current!.Nodes;
            for (var i = 0; i < candidates.Length; i++)
                Assert.Equal(feasible.Contains(candidates[i]), observation.Feasible[i]);
            masked += observation.Feasible.Count(f => !f);

            // PPO must record what it sampled; DDQN alternates exploring and greedy decisions.
            var action = algorithm == "ppo" || steps % 2 == 0 ? agent.ActForTraining(observation) : agent.Act(observation);
            var node = candidates[action];
            Assert.Contains(node, feasible);
            Assert.True(env.Cluster.FitsResources(node, env.CurrentPod!));
            var result = env.Step(action);
            if (algorithm == "ppo") agent.Record(observation, action, result);
            steps++;
            if (result.Next is null) break;
            observation = result.Next;
        }
        Assert.True(steps > 50, $"only {steps} placements");
        if (shortlist == 0) Assert.True(masked > steps, "the synthetic cluster should mask nodes on most steps");
        Assert.True(env.FailedPods > 0, "tune 1.3 must exhaust the cluster");
    }

    [Fact]
    public void Stepping_a_masked_candidate_throws_and_binds_nothing()
    {
        var env = Environment(shortlist: 0);
        var observation = env.Reset(3);
        var masked = Array.IndexOf(observation.Feasible, false);
        Assert.True(masked >= 0); // the cordoned and tainted nodes are never feasible
        var pods = env.Cluster.PodCount;
        Assert.Throws<InvalidOperationException>(() => env.Step(masked));
        Assert.Equal(pods, env.Cluster.PodCount);
    }

    [Fact]
    public void Shortlist_always_contains_the_fgd_and_best_fit_choices()
    {
        foreach (var expert in new[] { "fgd", "best-fit" })
        {
            var env = Environment(shortlist: 6);
            var options = new PlacementTrainingOptions { Algorithm = "ppo", PretrainExpert = expert, PretrainEpisodes = 1 };
            var demos = PlacementTraining.CollectDemonstrations(env, expert, options);
            Assert.Equal(env.PlacedPods, demos.Count); // every expert decision was among the candidates
            Assert.All(demos, d => Assert.True(d.Item1.NodeCount <= 6));
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_arrivals_and_rewards()
    {
        static List<float> Rewards(int seed)
        {
            var env = Environment(shortlist: 8);
            var rewards = new List<float>();
            env.Reset(seed);
            while (true)
            {
                var r = env.Step(0);
                rewards.Add(r.Reward);
                if (r.Next is null) return rewards;
            }
        }
        Assert.Equal(Rewards(21), Rewards(21));
        Assert.NotEqual(Rewards(21), Rewards(22));
    }
}
