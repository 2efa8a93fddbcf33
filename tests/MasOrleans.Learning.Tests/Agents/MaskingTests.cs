using MasOrleans.Learning.Tests.Support;

namespace MasOrleans.Learning.Tests.Agents;

public class MaskingTests
{
    private static readonly FeatureLayout Layout = FeatureLayout.Anonymous(6, 3);

    public static TheoryData<string> Algorithms => new(TestAgents.Algorithms);

    [Theory, MemberData(nameof(Algorithms))]
    public void Every_decision_path_picks_only_feasible_nodes(string algorithm)
    {
        using var agent = TestAgents.Create(algorithm, Layout);
        var observations = RandomObservations.Create(300, seed: 11, Layout.NodeFeatureCount, Layout.PodFeatureCount);
        foreach (var obs in observations)
        {
            Assert.True(obs.Feasible[agent.Act(obs, deterministic: true)]);
            Assert.True(obs.Feasible[agent.Act(obs, deterministic: false)]);
            int explored = agent.ActForTraining(obs); // DDQN: ε≈1 at start, so this is the uniform-random path
            Assert.True(obs.Feasible[explored]);
        }
        var batched = agent.ActBatch(observations); // padded batch of mixed sizes
        for (int i = 0; i < observations.Count; i++)
            Assert.True(observations[i].Feasible[batched[i]], $"batched decision {i} chose masked node {batched[i]}");
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void Masking_the_preferred_node_moves_the_decision(string algorithm)
    {
        // The unmasked favourite is what the network scores highest; masking it must change the choice.
        using var agent = TestAgents.Create(algorithm, Layout);
        foreach (var obs in RandomObservations.Create(100, seed: 12, Layout.NodeFeatureCount, Layout.PodFeatureCount, minNodes: 2))
        {
            var allFeasible = RandomObservations.WithMask(obs, Enumerable.Repeat(true, obs.NodeCount).ToArray());
            int favourite = agent.Act(allFeasible);
            var mask = Enumerable.Repeat(true, obs.NodeCount).ToArray();
            mask[favourite] = false;
            var masked = RandomObservations.WithMask(obs, mask);
            Assert.NotEqual(favourite, agent.Act(masked, deterministic: true));
            for (int k = 0; k < 5; k++) Assert.NotEqual(favourite, agent.Act(masked, deterministic: false));
            Assert.NotEqual(favourite, agent.ActBatch([masked])[0]);
        }
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void A_single_feasible_node_is_always_chosen(string algorithm)
    {
        using var agent = TestAgents.Create(algorithm, Layout);
        var rng = new Random(3);
        foreach (var obs in RandomObservations.Create(100, seed: 13, Layout.NodeFeatureCount, Layout.PodFeatureCount))
        {
            int only = rng.Next(obs.NodeCount);
            var mask = new bool[obs.NodeCount];
            mask[only] = true;
            var single = RandomObservations.WithMask(obs, mask);
            Assert.Equal(only, agent.Act(single, deterministic: false));
            Assert.Equal(only, agent.ActForTraining(single));
            if (agent is PpoPlacementAgent) agent.Record(single, only, new StepResult(null, 0, true));
        }
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void An_all_masked_observation_is_rejected(string algorithm)
    {
        using var agent = TestAgents.Create(algorithm, Layout);
        var obs = RandomObservations.Create(1, seed: 14, Layout.NodeFeatureCount, Layout.PodFeatureCount, minNodes: 5)[0];
        var none = RandomObservations.WithMask(obs, new bool[obs.NodeCount]);
        Assert.Throws<ArgumentException>(() => agent.Act(none));
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void Behaviour_cloning_refuses_an_infeasible_expert_label(string algorithm)
    {
        using var agent = TestAgents.Create(algorithm, Layout);
        var obs = RandomObservations.Create(1, seed: 15, Layout.NodeFeatureCount, Layout.PodFeatureCount, minNodes: 3)[0];
        var mask = Enumerable.Repeat(true, obs.NodeCount).ToArray();
        mask[0] = false;
        Assert.Throws<InvalidOperationException>(() => agent.Pretrain([(RandomObservations.WithMask(obs, mask), 0)], epochs: 1));
    }
}
