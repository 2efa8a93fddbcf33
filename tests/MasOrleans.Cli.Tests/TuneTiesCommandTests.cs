using System.Text.Json;
using MasOrleans.Cli.Tune;
using MasOrleans.Learning.Search;
using MasOrleans.Learning.Tests.Support;
using static MasOrleans.Cli.Tests.SmallTrace;

namespace MasOrleans.Cli.Tests;

[Collection(ReplayCommandRuns.Name)]
public class TuneTiesCommandTests
{
    [Fact]
    public async Task A_search_prints_each_generation_and_writes_every_candidate()
    {
        using var temp = new TempDirectory();
        var json = Path.Combine(temp, "search.json");
        var (exit, output, error) = await VerbRun.InvokeAsync(TuneTiesCommand.Create(),
            ["--nodes", Nodes, "--pods", Pods(temp), "--variants", "none", "--seed", "1000", "--generations", "2", "--population", "3", "--elite", "2", "--output", json]);
        Assert.True(exit == 0, error);
        Assert.Contains("generation 0: best objective", output);
        Assert.Contains("generation 1: best objective", output);
        // The settings line gives all 20 weights, both crossings and the 4 typical-pod weights (one left out would be the
        // shipped one, not the search's), each as "--set key=value".
        var settings = output.Split('\n').Single(l => l.StartsWith("settings: ", StringComparison.Ordinal))["settings: ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2 * (2 * TieFeatures.Count + 2 + 4), settings.Length);
        Assert.Contains("w.power=-2", settings);
        Assert.Contains("tie.gpu.cross=0", settings);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var generations = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, generations.Count);
        Assert.All(generations, g => Assert.Equal(3, g.GetProperty("candidates").GetArrayLength()));
        // camelCase as every JSON file mas writes: the objective was "Objective" beside "meanGain".
        Assert.Equal(["generation", "spread", "candidates"], generations[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(["objective", "meanGain", "worstGain", "gains", "cpu", "gpu", "cpuCross", "gpuCross", "typical"],
            generations[0].GetProperty("candidates")[0].EnumerateObject().Select(p => p.Name));
        // The first generation holds its mean, fgd-ties' hand rules.
        var handRules = TieWeights.HandRules.ToVector();
        Assert.Contains(generations[0].GetProperty("candidates").EnumerateArray(), c =>
            c.GetProperty("cpu").EnumerateArray().Concat(c.GetProperty("gpu").EnumerateArray()).Select(w => w.GetDouble()).SequenceEqual(handRules));
    }

    [Fact]
    public async Task A_search_with_typical_weights_and_crossings_starts_where_told_and_writes_them()
    {
        using var temp = new TempDirectory();
        var json = Path.Combine(temp, "search.json");
        var (exit, _, error) = await VerbRun.InvokeAsync(TuneTiesCommand.Create(),
            ["--nodes", Nodes, "--pods", Pods(temp), "--variants", "none", "--seed", "1000", "--generations", "1", "--population", "3", "--elite", "2",
             "--typical", "--cross", "--start", "w.power=-1", "--start", "tie.gpu.cross=0.25", "--output", json]);
        Assert.True(exit == 0, error);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var candidates = doc.RootElement[0].GetProperty("candidates").EnumerateArray().ToList();
        // The mean is the start: w.power -1, the other typical weights fgd-weighted's tuned ones, the GPU crossing 0.25.
        Assert.Contains(candidates, c => c.GetProperty("typical").GetProperty("w.power").GetString() == "-1"
            && c.GetProperty("typical").GetProperty("w.shared").GetString() == "2" && c.GetProperty("gpuCross").GetDouble() == 0.25);
        Assert.Equal(3, candidates.Select(c => c.GetProperty("typical").GetProperty("w.power").GetString()).Distinct().Count());
        Assert.True(candidates.Select(c => c.GetProperty("gpuCross").GetDouble()).Distinct().Count() > 1, "the crossings are searched");
    }

    public static TheoryData<string[], string> Refused => new()
    {
        { ["--seed", "40..45"], "seed 42 is one of 42..51" },
        { ["--variants", "share65,share50"], "variant share50 is held out" },
        { ["--start", "tie.cpu.usd=1"], "got 'tie.cpu.usd'" },
        { ["--start", "w.sharde=2"], "got 'w.sharde'" },
        { ["--start", "tie.cpu.crosss=2"], "got 'tie.cpu.crosss'" },
        { ["--typical", "--start", "w.cpu=0"], "must start above 0" },
        { ["--elite", "0"], "--elite" },
    };

    [Theory, MemberData(nameof(Refused))]
    public async Task Reported_seeds_held_out_variants_and_bad_options_are_refused(string[] args, string message)
    {
        using var temp = new TempDirectory();
        var (exit, output, error) = await VerbRun.InvokeAsync(TuneTiesCommand.Create(), ["--nodes", Nodes, "--pods", Pods(temp), "--generations", "1", .. args]);
        Assert.NotEqual(0, exit);
        Assert.Contains(message, error + output);
        Assert.DoesNotContain("generation 0", output);
    }
}
