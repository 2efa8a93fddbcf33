using System.Diagnostics;
using System.Text.RegularExpressions;
using MasOrleans.Learning.Online;

namespace MasOrleans.Learning.Tests.Online;

/// <summary>docs/learning.md's shell recipe for a model version's digest, run as written on each shipped model.</summary>
public partial class ModelDigestRecipeTests
{
    [GeneratedRegex(@"`(\(printf [^`]*\) \| sha256sum)`")]
    private static partial Regex Recipe();

    [Fact]
    public void The_documented_recipe_gives_each_algorithms_digest()
    {
        // The digest reads the files in ordinal name order, so PPO's weights come before its metadata.json; a recipe
        // putting metadata.json first for both hashes PPO's files in another order and gives another digest.
        var doc = File.ReadAllText(Path.Combine(TestFiles.RepoRoot, "docs", "learning.md"));
        var recipes = Recipe().Matches(doc).Select(m => m.Groups[1].Value).ToList();
        foreach (var (algorithm, weights) in new[] { ("ddqn", "online.weights"), ("ppo", "actor-critic.weights") })
        {
            var command = Assert.Single(recipes, r => r.Contains($"printf {weights};", StringComparison.Ordinal));
            var directory = Path.Combine(TestFiles.RepoRoot, "models", algorithm);
            Assert.Equal(ModelPackage.FromDirectory(directory).Digest, Shell(command, directory).Split(' ')[0]);
        }
    }

    private static string Shell(string command, string directory)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command}: {error}");
        return output.Trim();
    }
}
