using System.Text.Json;
using MasOrleans.Cli.Replay;
using Xunit.Abstractions;

namespace MasOrleans.Cli.Tests;

/// <summary>
/// The paper reproduction README claims, held as a regression: the six FGD-paper policies replayed on the
/// default openb trace (the paper's protocol: 130% arrived GPU demand) must stay within 1.5 points of the
/// published mean GPU allocation. Three of the paper's ten seeds keep the run well under a minute.
/// </summary>
[Collection(ReplayCommandRuns.Name)]
public class PaperReproductionTests(ITestOutputHelper output)
{
    /// <summary>Published GPU allocation at 130% arrived demand on openb `default`, mean of seeds 42..51
    /// (Weng et al., "Beware of Fragmentation", USENIX ATC'23; transcribed in /work/shared/traces/README.md).</summary>
    private static readonly Dictionary<string, double> PublishedAt130 = new()
    {
        ["random"] = 87.47,
        ["dotprod"] = 90.85,
        ["gpu-clustering"] = 91.88,
        ["gpu-packing"] = 92.00,
        ["best-fit"] = 93.08,
        ["fgd"] = 95.39,
    };

    private const double Tolerance = 1.5;

    [Fact]
    public async Task Six_paper_policies_stay_within_one_and_a_half_points_of_the_published_allocation_at_130_percent()
    {
        var root = Path.Combine(TestFiles.RepoRoot, "data", "traces", "openb");
        var outputDir = Path.Combine(Path.GetTempPath(), "mas-cli-tests", Guid.NewGuid().ToString("N"));
        string[] args =
        [
            "--nodes", Path.Combine(root, "openb_node_list_gpu_node.csv"), "--pods", Path.Combine(root, "openb_pod_list_default.csv"),
            .. PublishedAt130.Keys.SelectMany(p => new[] { "--policy", p }), "--seed", "42..44", "--tune", "1.3", "--output", outputDir,
        ];
        Assert.Equal(0, await UserErrors.InvokeAsync(ReplayCommand.Create(), args));

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "summary.json")));
        using var curves = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "curves.json")));
        var report = new List<string>();
        foreach (var mean in summary.RootElement.GetProperty("means").EnumerateArray())
        {
            var policy = mean.GetProperty("policy").GetString()!;
            var ours = mean.GetProperty("allocAt130").GetDouble();
            // allocAt130 is the allocation read where arrivals stop (the last curve sample, at 130% less at most one pod),
            // averaged over the seeds: not the 100% figure, not anything else.
            var lastSamples = curves.RootElement.EnumerateArray().Where(r => r.GetProperty("policy").GetString() == policy)
                .Select(r => r.GetProperty("curve").EnumerateArray().Last()).ToList();
            Assert.Equal(3, lastSamples.Count);
            Assert.All(lastSamples, s => Assert.InRange(s.GetProperty("arrivedPercent").GetDouble(), 129, 130 + 1e-9));
            Assert.Equal(lastSamples.Average(s => s.GetProperty("gpuAllocPercent").GetDouble()), ours, 9);
            report.Add($"{policy}: {ours:F2} vs {PublishedAt130[policy]:F2}");
        }
        Assert.Equal(PublishedAt130.Count, report.Count);
        output.WriteLine($"GPU allocation at 130%, mean of seeds 42..44 (ours vs published): {string.Join("; ", report)}");
        foreach (var mean in summary.RootElement.GetProperty("means").EnumerateArray())
        {
            var policy = mean.GetProperty("policy").GetString()!;
            Assert.True(Math.Abs(mean.GetProperty("allocAt130").GetDouble() - PublishedAt130[policy]) <= Tolerance,
                $"{policy} moved more than {Tolerance} points from the paper; all: {string.Join("; ", report)}");
        }
        Directory.Delete(outputDir, recursive: true);
    }
}
