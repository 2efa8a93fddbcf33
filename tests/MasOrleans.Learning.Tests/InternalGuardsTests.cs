using MasOrleans.Learning.Networks;
using MasOrleans.Learning.Search;
using MasOrleans.Learning.Tests.Support;

namespace MasOrleans.Learning.Tests;

/// <summary>
/// Guards on calls only our own code makes throw a plain <see cref="ArgumentException"/>, a defect's type: only a defect
/// reaches them. As UserArgumentException (the input checks' type) `mas` reported them as the user's bad option (exit 64),
/// and `mas serve` answered a state-encoding defect 400 "Invalid state".
/// </summary>
public class InternalGuardsTests
{
    [Fact]
    public void Tie_weights_from_a_vector_of_the_wrong_length_are_a_defect() =>
        Assert.Throws<ArgumentException>(() => TieWeights.FromVector([1.0]));

    [Fact]
    public void The_nearest_of_no_experts_is_a_defect() =>
        Assert.Throws<ArgumentException>(() => AdaptiveFgd.Nearest(new TypicalMix(0.5, 0, 0.1, 0), []));

    [Fact]
    public void Encoding_a_state_of_the_wrong_size_is_a_defect() =>
        Assert.Throws<ArgumentException>(() => new VectorStateEncoder(4, 2).Encode([new float[3]]));

    [Fact]
    public void Training_an_agent_of_another_layout_is_a_defect()
    {
        var layout = new FeatureLayout(["usedCpu"], ["podCpu"]);
        using var agent = TestAgents.Create("ppo", layout, seed: 1);
        Assert.Throws<ArgumentException>(() => new Trainer(new PackingEnvironment(), agent).Run(new TrainingRunOptions { Episodes = 1, Seed = 1 }));
    }
}
