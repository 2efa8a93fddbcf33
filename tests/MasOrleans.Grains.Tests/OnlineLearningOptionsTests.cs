using MasOrleans.Grains.Learning;
using MasOrleans.Learning.Online;
using Microsoft.Extensions.Configuration;

namespace MasOrleans.Grains.Tests;

/// <summary>"Learning:Online" binds the trainer's hyper-parameters (inherited) and the silo's schedule from one section.</summary>
public sealed class OnlineLearningOptionsTests
{
    [Fact]
    public void Every_key_of_the_section_reaches_the_options_including_the_trainers()
    {
        // The keys docs/configuration.md lists, each set away from its default.
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Learning:Online:MinExperiences"] = "7",
            ["Learning:Online:MaxQueuedDecisions"] = "99",
            ["Learning:Online:Seed"] = "5",
            ["Learning:Online:LearningRate"] = "0.002",
            ["Learning:Online:BatchSize"] = "16",
            ["Learning:Online:GradientSteps"] = "3",
            ["Learning:Online:PpoEpochs"] = "2",
            ["Learning:Online:PpoEntropyCoefficient"] = "0.01",
            ["Learning:Online:ExpertMargin"] = "0.25",
            ["Learning:Online:PpoExpertWeight"] = "0.5",
            ["Learning:Online:ReplayCapacity"] = "123",
        }).Build();

        var options = config.GetSection("Learning:Online").Get<OnlineLearningOptions>()!;
        Assert.Equal((7, 99), (options.MinExperiences, options.MaxQueuedDecisions));
        OnlineTrainingOptions training = options;
        Assert.Equal(new OnlineTrainingOptions
        {
            Seed = 5, LearningRate = 0.002, BatchSize = 16, GradientSteps = 3, PpoEpochs = 2, PpoEntropyCoefficient = 0.01,
            ExpertMargin = 0.25, PpoExpertWeight = 0.5, ReplayCapacity = 123,
        }, training, new TrainingFields());
        Assert.Empty(options.Problems());
    }

    /// <summary>Compares the trainer's fields only (record equality would also compare the runtime type).</summary>
    private sealed class TrainingFields : IEqualityComparer<OnlineTrainingOptions>
    {
        public bool Equals(OnlineTrainingOptions? a, OnlineTrainingOptions? b) =>
            (a!.Seed, a.LearningRate, a.BatchSize, a.GradientSteps, a.PpoEpochs, a.PpoEntropyCoefficient, a.ExpertMargin, a.PpoExpertWeight, a.ReplayCapacity)
            == (b!.Seed, b.LearningRate, b.BatchSize, b.GradientSteps, b.PpoEpochs, b.PpoEntropyCoefficient, b.ExpertMargin, b.PpoExpertWeight, b.ReplayCapacity);

        public int GetHashCode(OnlineTrainingOptions o) => o.Seed;
    }
}
