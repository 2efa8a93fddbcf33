using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Support;

namespace MasOrleans.Learning.Tests.Agents;

/// <summary>
/// A model save replaces the model on disk whole or not at all (mas train's checkpoints, mas serve --save-on-exit, a
/// model package written out): one that fails part way leaves the previous model byte for byte and loadable, and one
/// that succeeds leaves the new model's files and nothing else beside them.
/// </summary>
public class ModelSaveTests
{
    private static readonly IOException MetricsFault = new("metrics unavailable");

    /// <summary>
    /// Provenance whose training metrics fail while metadata.json is written, after the weights file: the old save had
    /// by then replaced the weights in place, leaving them under the previous model's metadata.
    /// </summary>
    private static readonly ModelProvenance FailingMetadata = new(Trace: "next", TrainingMetrics: new FailingMetrics(MetricsFault));

    public static TheoryData<string> Algorithms => new(TestAgents.Algorithms);

    [Theory, MemberData(nameof(Algorithms))]
    public void A_save_that_fails_part_way_leaves_the_previous_model_whole(string algorithm)
    {
        using var dir = new TempDirectory();
        using (var previous = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 1)) previous.Save(dir, new ModelProvenance(Trace: "previous"));
        var before = Files(dir);

        using (var next = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 2))
            Assert.Same(MetricsFault, Assert.Throws<IOException>(() => next.Save(dir, FailingMetadata)));

        Assert.Equal(before, Files(dir));
        using var loaded = TestAgents.Load(algorithm, dir, PackingEnvironment.Layout);
        Assert.Equal(1, loaded.Seed);
    }

    [Theory, MemberData(nameof(Algorithms))]
    public void A_save_over_a_model_replaces_its_files_and_leaves_no_temporary_file(string algorithm)
    {
        using var dir = new TempDirectory();
        using (var previous = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 1)) previous.Save(dir);
        var before = Files(dir);

        using var fresh = new TempDirectory();
        using (var next = TestAgents.Create(algorithm, PackingEnvironment.Layout, seed: 2))
        {
            next.Save(dir);
            next.Save(fresh);
        }

        var after = Files(dir);
        Assert.Equal(before.Keys, after.Keys);
        var weights = Assert.Single(after.Keys, name => name.EndsWith(".weights", StringComparison.Ordinal));
        Assert.NotEqual(before[weights], after[weights]);
        Assert.Equal(Files(fresh)[weights], after[weights]);
        using var loaded = TestAgents.Load(algorithm, dir, PackingEnvironment.Layout);
        Assert.Equal(2, loaded.Seed);
    }

    /// <summary>
    /// The save every model goes through (placement agents, mas serve's policy): TorchSharp creates the weights file and
    /// then fails to write it. The old save created it in place, truncating the previous model's weights.
    /// </summary>
    [Fact]
    public void A_weights_file_that_fails_part_way_leaves_the_previous_model_whole()
    {
        using var dir = new TempDirectory();
        using (var previous = TestAgents.Create("ppo", PackingEnvironment.Layout, seed: 1)) previous.Save(dir);
        var before = Files(dir);
        var metadata = ModelDirectory.ReadMetadata(dir);
        var weights = Path.GetFileNameWithoutExtension(Assert.Single(before.Keys, name => name.EndsWith(".weights", StringComparison.Ordinal)));

        using (var network = new UnwritableNetwork())
            Assert.Same(UnwritableNetwork.Fault, Assert.Throws<IOException>(() =>
                ModelDirectory.Save(dir, metadata with { Seed = 2 }, new Dictionary<string, nn.Module> { [weights] = network })));

        Assert.Equal(before, Files(dir));
        using var loaded = TestAgents.Load("ppo", dir, PackingEnvironment.Layout);
        Assert.Equal(1, loaded.Seed);
    }

    [Fact]
    public void A_package_write_that_fails_part_way_leaves_the_previous_model_whole()
    {
        using var dir = new TempDirectory();
        using (var previous = TestAgents.Create("ddqn", PlacementFeatures.Layout, seed: 1)) previous.Save(dir);
        var before = Files(dir);

        ModelPackage next;
        using (var agent = TestAgents.Create("ddqn", PlacementFeatures.Layout, seed: 2)) next = ModelPackage.FromAgent(agent);
        // Every file of the new model, then one whose name would leave the directory: refused after the others.
        var files = new Dictionary<string, byte[]>(next.Files.OrderBy(f => f.Key, StringComparer.Ordinal)) { ["../escaping.weights"] = [1] };
        Assert.Throws<InvalidDataException>(() => new ModelPackage(files).WriteTo(dir));

        Assert.Equal(before, Files(dir));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(dir.Path)!, "escaping.weights")));
        Assert.Equal(1, ModelPackage.FromDirectory(dir).Metadata.Seed);

        next.WriteTo(dir);
        Assert.Equal(before.Keys, Files(dir).Keys);
        Assert.Equal(next.Digest, ModelPackage.FromDirectory(dir).Digest);
    }

    /// <summary>Every file in the directory (temporary ones included), by name, with a digest of its bytes.</summary>
    private static SortedDictionary<string, string> Files(string directory) =>
        new(Directory.EnumerateFiles(directory).ToDictionary(p => Path.GetFileName(p), p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))),
            StringComparer.Ordinal);

    /// <summary>Training metrics that cannot be read: enumerating them throws <paramref name="fault"/>.</summary>
    private sealed class FailingMetrics(Exception fault) : IReadOnlyDictionary<string, double>
    {
        public double this[string key] => throw fault;
        public IEnumerable<string> Keys => throw fault;
        public IEnumerable<double> Values => throw fault;
        public int Count => 1;
        public bool ContainsKey(string key) => throw fault;
        public bool TryGetValue(string key, out double value) => throw fault;
        public IEnumerator<KeyValuePair<string, double>> GetEnumerator() => throw fault;
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A network whose state cannot be read: TorchSharp has created the weights file when it asks for it.</summary>
    private sealed class UnwritableNetwork() : nn.Module("unwritable")
    {
        public static readonly IOException Fault = new("weights unavailable");

        public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null) => throw Fault;
    }
}
