using MasOrleans.Learning.Tests.Support;

namespace MasOrleans.Cli.Tests;

/// <summary>
/// The built `mas` run as a process: each kind of mistake has its BSD sysexits code (sysexits.h: EX_USAGE 64,
/// EX_DATAERR 65, EX_NOINPUT 66) and one line on stderr that names it, with no stack trace. Every verb used to exit 1.
/// </summary>
public class ExitCodeTests
{
    private const string Nodes = "gen:count=2,cpu=8,memory=16Gi,gpu=2";

    [Fact]
    public async Task A_bad_argument_is_a_usage_error()
    {
        using var temp = new TempDirectory();
        var (exit, error) = await RunMas("replay", "--nodes", Nodes, "--pods", SmallTrace.Pods(temp), "--policy", "fgd", "--output", Path.Combine(temp, "out"), "--tune", "-1");
        Assert.Equal(64, exit);
        Assert.Equal("--tune must be above 0 and at most 10, was -1.", OneLine(error));
        Assert.False(Directory.Exists(Path.Combine(temp, "out")), "a refused replay wrote its output");
    }

    /// <summary>A value that is no number: the option's rule read it before it was converted, and `mas` aborted (134) with a stack trace.</summary>
    [Fact]
    public async Task A_value_that_is_no_number_is_a_usage_error()
    {
        using var temp = new TempDirectory();
        var (exit, error) = await RunMas("replay", "--nodes", Nodes, "--pods", SmallTrace.Pods(temp), "--policy", "fgd", "--output", Path.Combine(temp, "out"), "--tune", "abc");
        Assert.Equal(64, exit);
        Assert.Equal("--tune must be a number, was 'abc'.", OneLine(error));
    }

    /// <summary>
    /// An unknown option after --policy was taken as a policy name: "error: unknown policy '--bogus'". It is a parse
    /// error naming the option (System.CommandLine prints the usage with it), before any output is written.
    /// </summary>
    [Fact]
    public async Task An_unknown_option_after_the_policies_is_named_as_an_option()
    {
        using var temp = new TempDirectory();
        var (exit, error) = await RunMas("replay", "--nodes", Nodes, "--pods", SmallTrace.Pods(temp), "--output", Path.Combine(temp, "out"), "--policy", "fgd", "--bogus");
        Assert.Equal(64, exit);
        Assert.Equal("unknown option '--bogus' (after --policy, which takes values, not options)", OneLine(error));
        Assert.False(Directory.Exists(Path.Combine(temp, "out")), "a refused replay wrote its output");
    }

    [Fact]
    public async Task A_missing_input_file_is_no_input()
    {
        using var temp = new TempDirectory();
        var missing = Path.Combine(temp, "no-such-pods.csv");
        var (exit, error) = await RunMas("replay", "--nodes", Nodes, "--pods", missing, "--policy", "fgd", "--output", Path.Combine(temp, "out"));
        Assert.Equal(66, exit);
        Assert.Equal($"error: trace file not found: {missing}", OneLine(error));
    }

    /// <summary>
    /// An empty --pods beside --output: the check that the output is none of the inputs took Path.GetFullPath(""), whose
    /// ArgumentException ended the verb as a defect (exit 70 and a stack trace); without --output it was already 66.
    /// </summary>
    [Theory]
    [InlineData("tune-ties")]
    [InlineData("evaluate")]
    public async Task An_empty_input_path_beside_an_output_is_no_input(string verb)
    {
        using var temp = new TempDirectory();
        string[] policy = verb == "evaluate" ? ["--policy", "best-fit"] : [];
        var (exit, error) = await RunMas([verb, "--nodes", Nodes, "--pods", "", .. policy, "--output", Path.Combine(temp, "out.json")]);
        Assert.Equal(66, exit);
        Assert.Equal("error: trace file not found:", OneLine(error));
        Assert.False(File.Exists(Path.Combine(temp, "out.json")), "a refused run wrote its output");
    }

    [Fact]
    public async Task A_malformed_input_file_is_a_data_error()
    {
        using var temp = new TempDirectory();
        var malformed = Path.Combine(temp, "pods.csv");
        // The openb pod columns, and a GPU count that is no number.
        File.WriteAllText(malformed, "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1000,1024,two,0\n");
        var (exit, error) = await RunMas("replay", "--nodes", Nodes, "--pods", malformed, "--policy", "fgd", "--output", Path.Combine(temp, "out"));
        Assert.Equal(65, exit);
        Assert.StartsWith($"error: {malformed}:2: column 'num_gpu'", OneLine(error));
    }

    /// <summary>The only non-empty line of stderr; a stack trace ("   at ...") or a second problem fails here.</summary>
    private static string OneLine(string error) => Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static async Task<(int Exit, string Error)> RunMas(params string[] args)
    {
        using var process = MasProcess.Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        await stdout;
        return (process.ExitCode, await stderr);
    }
}
