using MasOrleans.Learning;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Tests.Support;

internal static class TestAgents
{
    public static readonly string[] Algorithms = ["ppo", "ddqn"];

    public static IPlacementAgent Create(string algorithm, FeatureLayout layout, int seed = 7) => algorithm switch
    {
        "ppo" => new PpoPlacementAgent(layout, new PpoOptions { Seed = seed, HiddenSizes = [32, 32] }),
        "ddqn" => new DdqnPlacementAgent(layout, new DdqnOptions { Seed = seed, HiddenSizes = [32, 32] }),
        _ => throw new ArgumentException(algorithm),
    };

    /// <summary>The default catalog with <paramref name="algorithm"/> registered over an untrained agent saved in <paramref name="directory"/>.</summary>
    public static PolicyCatalog CatalogWithUntrained(string algorithm, int seed, string directory)
    {
        using (var agent = Create(algorithm, PlacementFeatures.Layout, seed)) agent.Save(directory);
        var catalog = PolicyCatalog.CreateDefault();
        LearnedPolicies.Register(catalog, new Dictionary<string, string> { [algorithm] = directory });
        return catalog;
    }

    public static IPlacementAgent Load(string algorithm, string directory, FeatureLayout layout) => algorithm switch
    {
        "ppo" => PpoPlacementAgent.Load(directory, layout),
        "ddqn" => DdqnPlacementAgent.Load(directory, layout),
        _ => throw new ArgumentException(algorithm),
    };

}

/// <summary>A fresh directory under the temp path, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mas-learning-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public static implicit operator string(TempDirectory directory) => directory.Path;

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
