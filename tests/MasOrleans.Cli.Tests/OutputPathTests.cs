using MasOrleans.Cli.Evaluate;
using MasOrleans.Cli.Replay;
using MasOrleans.Cli.Train;
using MasOrleans.Learning.Tests.Support;
using static MasOrleans.Cli.Tests.SmallTrace;

namespace MasOrleans.Cli.Tests;

/// <summary>An output a verb cannot write is refused before the verb works, in one line naming the option.</summary>
[Collection(ReplayCommandRuns.Name)]
public class OutputPathTests
{
    public static TheoryData<string, string> Verbs => new()
    {
        // verb, what the output is (a file where a directory is needed, or the other way round)
        { "replay --output", "file" },
        { "train --output", "file" },
        { "evaluate --write-variants", "file" },
        { "evaluate --output", "directory" },
    };

    [Theory, MemberData(nameof(Verbs))]
    public async Task An_output_of_the_wrong_kind_is_refused_before_any_work(string verb, string kind)
    {
        using var temp = new TempDirectory();
        var pods = Pods(temp);
        var taken = Path.Combine(temp, "taken");
        if (kind == "file") File.WriteAllText(taken, "kept");
        else Directory.CreateDirectory(taken);
        var (command, args) = verb switch
        {
            "replay --output" => (ReplayCommand.Create(), new[] { "--policy", "fgd", "--output", taken }),
            "train --output" => (TrainCommand.Create(), ["--algo", "ppo", "--episodes", "1", "--output", taken]),
            "evaluate --write-variants" => (EvaluateCommand.Create(), ["--variants", "share50", "--write-variants", taken]),
            _ => (EvaluateCommand.Create(), ["--variants", "none", "--policy", "best-fit", "--seed", "1", "--output", taken]),
        };
        var (exit, output, error) = await VerbRun.InvokeAsync(command, ["--nodes", Nodes, "--pods", pods, .. args]);

        var option = verb.Split(' ')[1];
        var expected = kind == "file" ? "is a file, not a directory" : "is a directory, not a file";
        Assert.Equal(64, exit); // EX_USAGE: the option names a path it cannot use
        Assert.Equal($"error: {option} {taken}: {expected}{Environment.NewLine}", error);
        Assert.DoesNotContain("seeds", output); // evaluate prints its table ("... seeds 1 ...") only after running
        if (kind == "file") Assert.Equal("kept", File.ReadAllText(taken));
        else Assert.Empty(Directory.EnumerateFileSystemEntries(taken));
    }

    /// <summary>
    /// An --output file that is one of the verb's inputs (a slip of the shell's history) was written over it: the trace
    /// replaced by the comparison's JSON, found when the next run failed. It is refused before any work, the input intact.
    /// </summary>
    [Theory]
    [InlineData("evaluate", "--pods")]
    [InlineData("evaluate", "--trace")]
    [InlineData("tune-ties", "--pods")]
    public async Task An_output_file_that_is_an_input_is_refused_before_any_work(string verb, string input)
    {
        using var temp = new TempDirectory();
        var pods = Pods(temp);
        var trace = Path.Combine(temp, "other.csv");
        File.Copy(pods, trace);
        var target = Path.Combine(temp, ".", Path.GetFileName(input == "--pods" ? pods : trace)); // the same file, written otherwise
        var (command, args) = verb == "evaluate"
            ? (EvaluateCommand.Create(), new[] { "--trace", trace, "--variants", "none", "--policy", "best-fit", "--seed", "1" })
            : (MasOrleans.Cli.Tune.TuneTiesCommand.Create(), ["--variants", "none", "--generations", "1", "--population", "2", "--elite", "1"]);
        var before = File.ReadAllText(pods);
        var (exit, output, error) = await VerbRun.InvokeAsync(command, ["--nodes", Nodes, "--pods", pods, .. args, "--output", target]);
        Assert.Equal(64, exit);
        Assert.Equal($"error: --output {target}: is the {input} file, which writing it would replace{Environment.NewLine}", error);
        Assert.DoesNotContain("seeds", output);
        Assert.Equal(before, File.ReadAllText(input == "--pods" ? pods : trace));
    }

    [Fact]
    public async Task An_output_in_a_missing_directory_is_refused_before_any_work()
    {
        using var temp = new TempDirectory();
        var target = Path.Combine(temp, "no-such-dir", "out.json");
        var (exit, output, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(),
            ["--nodes", Nodes, "--pods", Pods(temp), "--variants", "none", "--policy", "best-fit", "--seed", "1", "--output", target]);
        Assert.Equal(64, exit); // EX_USAGE: the option names a path it cannot use
        Assert.Equal($"error: --output {target}: the directory {Path.Combine(temp, "no-such-dir")} does not exist{Environment.NewLine}", error);
        Assert.DoesNotContain("seeds", output);
    }
}
