using System.Text.Json;
using MasOrleans.Cli.Replay;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling;

namespace MasOrleans.Cli.Tests;

/// <summary>`mas replay` with options that are wrong or repeated: one line on stderr and a user error's exit code before any replay, or one run per policy.</summary>
[Collection(ReplayCommandRuns.Name)]
public class ReplayOptionInputTests
{
    /// <summary>A policy given twice ran twice, then the summary's per-policy dictionary threw "An item with the same key has already been added".</summary>
    [Fact]
    public async Task A_policy_given_twice_is_replayed_once()
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", SmallTrace.Pods(temp), "--policy", "best-fit", "--policy", "best-fit", "--seed", "1", "--output", output]);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(["best-fit"], summary.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("policy").GetString()));
        Assert.Contains("--policy best-fit --seed", summary.RootElement.GetProperty("command").GetString());
        Assert.DoesNotContain("--policy best-fit --policy best-fit", summary.RootElement.GetProperty("command").GetString());
    }

    /// <summary>
    /// The catalog reads policy names without regard to case ("FGD" is fgd), so fgd and FGD are one policy given twice:
    /// they were replayed twice and reported as two policies of equal results, each named as typed.
    /// </summary>
    [Fact]
    public async Task A_policy_given_twice_in_another_case_is_replayed_once_under_its_registered_name()
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", SmallTrace.Pods(temp), "--policy", "best-fit", "BEST-FIT", "--seed", "1", "--output", output]);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(["best-fit"], summary.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("policy").GetString()));
    }

    /// <summary>
    /// evaluate took names as typed: --policy FGD --policy fgd compared two candidates that are one policy, and --baseline
    /// with another spelling of a candidate compared a policy with itself under two names.
    /// </summary>
    [Fact]
    public async Task Evaluate_names_each_policy_once_as_registered()
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp, "comparison.json");
        var (exit, _, error) = await VerbRun.InvokeAsync(MasOrleans.Cli.Evaluate.EvaluateCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", SmallTrace.Pods(temp), "--variants", "none", "--baseline", "BEST-FIT", "--policy", "FGD", "fgd", "--seed", "1", "--output", output]);
        Assert.Equal(0, exit);
        Assert.DoesNotContain("error", error);
        using var rows = JsonDocument.Parse(File.ReadAllText(output));
        var row = Assert.Single(rows.RootElement.GetProperty("comparisons").EnumerateArray());
        Assert.Equal("best-fit", row.GetProperty("baseline").GetProperty("policy").GetString());
        Assert.Equal("fgd", row.GetProperty("candidate").GetProperty("policy").GetString());
    }

    /// <summary>A setting given twice was refused with the dictionary's message, naming neither --set nor the setting's place.</summary>
    [Fact]
    public void A_setting_given_twice_is_named() =>
        Assert.Equal("--set 'gpusel' is given twice (gpusel=best, gpusel=worst); give each setting once",
            Assert.Throws<FormatException>(() => ReplayCommand.ParseSettings(["gpusel=best", "gpusel=worst"])).Message);

    /// <summary>A trace without times replayed in timed mode as every pod arriving at 0 s and never leaving (makespan 0), reported as a result.</summary>
    [Fact]
    public async Task Timed_mode_on_a_trace_without_times_is_one_line()
    {
        using var temp = new TempDirectory();
        var pods = SmallTrace.Pods(temp);
        var output = Path.Combine(temp, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "best-fit", "--mode", "timed", "--output", output]);
        Assert.Equal(ExitCodes.DataError, exit);
        Assert.Equal($"error: --mode timed needs pod creation and deletion times, and {pods} has none (use --mode paper){Environment.NewLine}", error);
        Assert.False(Directory.Exists(output), "a refused replay wrote its output");
    }

    /// <summary>rdma_request % x the NIC's Mbps x 1000 (milli) overflowed a long for a NIC above 2.3e15 Mbps.</summary>
    [Fact]
    public async Task A_nic_bandwidth_no_stored_value_can_hold_is_refused()
    {
        using var temp = new TempDirectory();
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", SmallTrace.Pods(temp), "--policy", "best-fit", "--nic-mbps", "9223372036854775807", "--output", Path.Combine(temp, "out")]);
        Assert.Equal(ExitCodes.Usage, exit);
        // Quantity.MaxStored / 1000 = 2305843009213693 Mbps (by hand: (2^63 - 1) / 4 / 1000, rounded down).
        Assert.Contains("--nic-mbps must be from 1 to 2305843009213693 Mbps, was 9223372036854775807.", error);
    }

    /// <summary>--notes naming a directory ended in an UnauthorizedAccessException stack trace; a missing one said "Could not find file", naming no option.</summary>
    [Fact]
    public async Task A_notes_path_that_is_no_readable_file_is_one_line()
    {
        using var temp = new TempDirectory();
        var pods = SmallTrace.Pods(temp);
        var missing = Path.Combine(temp, "missing.md");
        foreach (var (notes, message) in new[] { (temp.Path, $"--notes {temp.Path}: is a directory, not a file"), (missing, $"--notes {missing}: the file does not exist") })
        {
            var output = Path.Combine(temp, "out");
            var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
                ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "best-fit", "--notes", notes, "--output", output]);
            Assert.Equal(ExitCodes.NoInput, exit);
            Assert.Equal($"error: {message}{Environment.NewLine}", error);
            Assert.False(Directory.Exists(output), "a refused replay wrote its output");
        }
    }
}
