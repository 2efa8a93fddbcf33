using MasOrleans.Learning.Tests.Support;
using Xunit.Abstractions;

namespace MasOrleans.Learning.Tests.Agents;

public class BehaviourCloningTests(ITestOutputHelper output)
{
    public static TheoryData<string> Algorithms => new(TestAgents.Algorithms);

    [Theory, MemberData(nameof(Algorithms))]
    public void Cloning_reproduces_the_expert_on_held_out_observations(string algorithm)
    {
        var train = PackingEnvironment.RandomRollouts(episodes: 100, seed: 1);
        var heldOut = PackingEnvironment.RandomRollouts(episodes: 20, seed: 2);
        using var agent = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 5);

        double before = Agreement(agent, heldOut);
        var stats = agent.Pretrain(train.Select(o => (o, PackingEnvironment.Expert(o))), epochs: 30);
        double after = Agreement(agent, heldOut);
        output.WriteLine($"{algorithm}: agreement with expert {before:P0} → {after:P0} on decisive held-out states; final CE {stats.Loss:F3}");

        Assert.Equal(train.Count, stats.Samples);
        Assert.True(after >= 0.9, $"agreement after cloning only {after:P0}");
        Assert.True(after > before + 0.2, $"cloning barely changed agreement: {before:P0} → {after:P0}");
    }

    /// <summary>Fraction of states where the agent picks the expert's node. Only states with a unique best
    /// node count: early states where every node is empty tie, and any choice would "agree".</summary>
    private static double Agreement(IPlacementAgent agent, List<PlacementObservation> observations)
    {
        var decisive = observations.Where(o =>
        {
            double best = PackingEnvironment.ExpertScore(o, PackingEnvironment.Expert(o));
            return Enumerable.Range(0, o.NodeCount).Count(i => o.Feasible[i] && PackingEnvironment.ExpertScore(o, i) >= best - 1e-6) == 1;
        }).ToList();
        Assert.True(decisive.Count >= 100, $"only {decisive.Count} decisive held-out states");
        return decisive.Count(o => agent.Act(o) == PackingEnvironment.Expert(o)) / (double)decisive.Count;
    }
}
