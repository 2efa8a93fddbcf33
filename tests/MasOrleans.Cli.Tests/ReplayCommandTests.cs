using System.Text.Json;
using MasOrleans.Cli.Replay;

namespace MasOrleans.Cli.Tests;

/// <summary>
/// Verbs run in-process share the process console: replay and train draw one live progress display per process
/// (Spectre.Console), and tests that read what a verb printed swap Console.Out/Error; so their runs take turns.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReplayCommandRuns
{
    public const string Name = "replay-command";
}

[Collection(ReplayCommandRuns.Name)]
public class ReplayCommandTests
{
    /// <summary>A slice of the paper's data: 30 nodes and the first 300 pods of the default trace.</summary>
    private static (string Nodes, string Pods) Slice()
    {
        var root = Path.Combine(TestFiles.RepoRoot, "data", "traces", "openb");
        var nodes = TestFiles.Temp("nodes.csv", string.Join('\n', File.ReadLines(Path.Combine(root, "openb_node_list_gpu_node.csv")).Take(31)) + "\n");
        var pods = TestFiles.Temp("pods.csv", string.Join('\n', File.ReadLines(Path.Combine(root, "openb_pod_list_default.csv")).Take(301)) + "\n");
        return (nodes, pods);
    }

    [Fact]
    public async Task Replay_writes_summary_report_and_plots()
    {
        var (nodes, pods) = Slice();
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "out");
        var exit = await UserErrors.InvokeAsync(ReplayCommand.Create(), 
            ["--nodes", nodes, "--pods", pods, "--policy", "random", "--policy", "fgd", "--policy", "best-fit", "--seed", "1..2", "--output", output]);
        Assert.Equal(0, exit);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var runs = summary.RootElement.GetProperty("runs");
        Assert.Equal(6, runs.GetArrayLength());
        Assert.Equal(["random", "random", "fgd", "fgd", "best-fit", "best-fit"], runs.EnumerateArray().Select(r => r.GetProperty("policy").GetString()));
        var means = summary.RootElement.GetProperty("means");
        Assert.Equal(3, means.GetArrayLength());
        Assert.All(means.EnumerateArray(), m => Assert.InRange(m.GetProperty("allocAt130").GetDouble(), 1, 100));

        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("mas replay --nodes", report);
        Assert.Contains("| fgd |", report);
        foreach (var png in new[] { "gpu-allocation.png", "fragmentation.png" })
        {
            Assert.Contains($"]({png})", report);
            var bytes = File.ReadAllBytes(Path.Combine(output, png));
            Assert.True(bytes.Length > 1000);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
    }

    [Fact]
    public async Task Timed_mode_writes_utilization_and_queue_plots()
    {
        var (nodes, pods) = Slice();
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "timed");
        var exit = await UserErrors.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", "best-fit", "--mode", "timed", "--output", output]);
        Assert.Equal(0, exit);
        Assert.True(File.Exists(Path.Combine(output, "utilization.png")));
        Assert.True(File.Exists(Path.Combine(output, "queue-length.png")));
        Assert.Contains("mean wait (s)", File.ReadAllText(Path.Combine(output, "report.md")));
    }

    /// <summary>
    /// Redirected output (a log, CI, this test) gets one line per finished run: Spectre's fallback progress printed a
    /// snapshot now and then ("fgd seed 43: 14%", "ddqn seed 42: 0%" and nothing more for a run that had finished).
    /// </summary>
    [Fact]
    public async Task A_redirected_replay_says_once_that_each_run_is_done()
    {
        var (nodes, pods) = Slice();
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "redirected");
        var (exit, printed, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", "fgd", "--policy", "best-fit", "--seed", "1..2", "--output", output]);
        Assert.True(exit == 0, error);
        var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(" seed ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["fgd seed 1", "fgd seed 2", "best-fit seed 1", "best-fit seed 2"], lines.Select(l => l[..l.IndexOf(':')]));
        Assert.All(lines, l => Assert.Matches(@": done \([0-9]+\.[0-9] s\)\r?$", l));
    }

    /// <summary>
    /// summary.json's means hold the mean over the seeds of each timed reading the runs have (docs/replay-outputs.md):
    /// meanCpuAllocPercent and maxQueueLength were in each run and missing from the means.
    /// </summary>
    [Fact]
    public async Task Timed_means_hold_every_timed_reading_of_the_runs()
    {
        var (nodes, pods) = Slice();
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "timed-means");
        Assert.Equal(0, await UserErrors.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", "best-fit", "--mode", "timed", "--seed", "1..2", "--output", output]));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var runs = summary.RootElement.GetProperty("runs").EnumerateArray().ToList();
        var means = Assert.Single(summary.RootElement.GetProperty("means").EnumerateArray());
        foreach (var field in new[] { "meanWaitSeconds", "p95WaitSeconds", "makespanSeconds", "meanGpuAllocPercent", "meanCpuAllocPercent", "maxQueueLength" })
        {
            Assert.True(means.TryGetProperty(field, out var mean) && mean.ValueKind == JsonValueKind.Number, $"means lack {field}");
            Assert.Equal(runs.Average(r => r.GetProperty(field).GetDouble()), mean.GetDouble(), 9);
        }
        // The paper readings no timed run measures are left out, not null (docs/replay-outputs.md).
        foreach (var field in new[] { "allocAt100", "allocAt130", "cpuAllocAt130", "memAllocAt130", "fragmentationAt80" })
            Assert.False(means.TryGetProperty(field, out _), $"means hold {field}, which no timed run measured");
    }

    /// <summary>
    /// A replay into an --output that held the other mode's replay left that run's plots beside its own report: a paper
    /// run's directory showed utilization.png and queue-length.png of an earlier timed run. Each run's plots are its own.
    /// </summary>
    [Fact]
    public async Task A_replay_into_a_directory_of_the_other_mode_leaves_none_of_its_plots()
    {
        var (nodes, pods) = Slice();
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "reused");
        string[] paper = ["gpu-allocation.png", "gpu-allocation-zoom.png", "allocation-at-130.png", "fragmentation.png"], timed = ["utilization.png", "queue-length.png"];
        foreach (var (mode, written, removed) in new[] { ("timed", timed, paper), ("paper", paper, timed), ("timed", timed, paper) })
        {
            Assert.Equal(0, await UserErrors.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", "best-fit", "--mode", mode, "--output", output]));
            Assert.All(written, png => Assert.True(File.Exists(Path.Combine(output, png)), $"{mode}: {png} missing"));
            Assert.All(removed, png => Assert.False(File.Exists(Path.Combine(output, png)), $"{mode}: {png} left from the run before"));
        }
    }

    [Fact]
    public async Task Unknown_policy_and_bad_rows_fail_with_a_clear_message()
    {
        var (nodes, pods) = Slice();
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(64, await UserErrors.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", "nope", "--output", "unused"]));
            var bad = TestFiles.Temp("bad.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\na,1,1,x,0\n");
            Assert.Equal(65, await UserErrors.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", bad, "--policy", "fgd", "--output", "unused"]));
            // A setting no chosen policy reads is refused before any replay runs (and writes nothing).
            Assert.Equal(64, await UserErrors.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", "fgd", "--policy", "kube", "--set", "gpusell=worst", "--output", "unused"]));
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Contains("unknown policy 'nope'", error.ToString());
        Assert.Contains("bad.csv:2: column 'num_gpu'", error.ToString());
        Assert.Contains("no policy among fgd, kube reads the setting 'gpusell'", error.ToString());
        Assert.False(Directory.Exists("unused"), "a refused replay wrote its output");
    }

    /// <summary>
    /// A misspelt policy was "unknown policy" and the list of 20 names to search by eye; the name it is a typo of (at most
    /// 2 edits: "fgd-wieghted" is 2 from fgd-weighted, "Best-Fitt" 1 from best-fit) is named first. A name near none is not.
    /// </summary>
    [Theory]
    [InlineData("fgd-wieghted", "unknown policy 'fgd-wieghted'; did you mean 'fgd-weighted'? (known: ")]
    [InlineData("Best-Fitt", "unknown policy 'Best-Fitt'; did you mean 'best-fit'? (known: ")]
    [InlineData("astrology", "unknown policy 'astrology' (known: ")]
    public async Task A_misspelt_policy_is_named_with_the_one_it_was_likely_meant_to_be(string policy, string message)
    {
        var (nodes, pods) = Slice();
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", policy, "--output", "unused"]);
        Assert.Equal(64, exit);
        Assert.StartsWith("error: " + message, error);
    }

    /// <summary>
    /// `--list-policies` lists and exits, as its help says, without a trace or an output to name (they were required
    /// before it was looked at: "Option '--nodes' is required."). A run still needs all three.
    /// </summary>
    [Fact]
    public async Task List_policies_needs_no_trace_or_output()
    {
        var (exit, output, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--list-policies"]);
        Assert.True(exit == 0, error);
        var names = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0]).ToList();
        Assert.Contains("fgd", names);
        Assert.Contains("kube", names);
        Assert.Contains("ddqn", names);

        var (runExit, _, runError) = await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--policy", "fgd"]);
        Assert.Equal(64, runExit); // EX_USAGE
        foreach (var option in new[] { "--nodes", "--pods", "--output" }) Assert.Contains($"Option '{option}' is required.", runError);
    }

    /// <summary>
    /// `--list-policies` is a two-column table: every description starts in one column, one space after the longest name.
    /// The name column was 16 wide, so `fgd-adaptive-wide` (17) pushed its description one column right of the others.
    /// </summary>
    [Fact]
    public async Task List_policies_starts_every_description_in_one_column()
    {
        var (exit, output, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--list-policies"]);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')).ToList();
        var longest = lines.Max(line => line.IndexOf(' '));
        Assert.Contains(lines, line => line.StartsWith("fgd-adaptive-wide "));
        foreach (var line in lines)
        {
            // The description's first character, after the name and its padding.
            var column = line.IndexOf(' ') + line[line.IndexOf(' ')..].TakeWhile(c => c == ' ').Count();
            Assert.True(column == longest + 1, $"description at column {column}, not {longest + 1}: '{line}'");
        }
    }

    [Theory]
    [InlineData("metadata.json")]
    [InlineData("actor-critic.weights")]
    // No hidden layer: the encoder's constructor threw a plain ArgumentException before any weights were read, exit 70.
    [InlineData("hiddenSizes")]
    public async Task A_damaged_model_is_named_in_one_line(string damaged)
    {
        var (nodes, pods) = Slice();
        var model = Path.Combine(Path.GetDirectoryName(pods)!, "ppo");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(Path.Combine(TestFiles.RepoRoot, "models", "ppo"))) File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        // Cut short: metadata.json used to crash with a JsonException stack trace, the weights with an EndOfStreamException one.
        var target = Path.Combine(model, damaged == "hiddenSizes" ? "metadata.json" : damaged);
        if (damaged == "hiddenSizes") Serve.ServeVerbTests.WithoutHiddenLayers(target);
        else
        {
            var bytes = File.ReadAllBytes(target);
            File.WriteAllBytes(target, bytes[..(bytes.Length / 2)]);
        }

        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", nodes, "--pods", pods, "--policy", "ppo", "--model", model, "--output", Path.Combine(model, "out")]);
        Assert.Equal(65, exit); // EX_DATAERR
        var line = Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: '{target}' is not ", line);
    }

    /// <summary>
    /// A --model is used by the policy of its algorithm only: `--policy ddqn --model <a ppo model>` ran the shipped ddqn and
    /// exited 0, while summary.json's command named the model as if it had decided.
    /// </summary>
    [Theory]
    [InlineData("replay")]
    [InlineData("evaluate")]
    public async Task A_model_no_policy_of_the_run_uses_is_refused_in_one_line(string verb)
    {
        var (nodes, pods) = Slice();
        var ppo = Path.Combine(TestFiles.RepoRoot, "models", "ppo");
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "unused-model");
        var (exit, _, error) = verb == "replay"
            ? await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--nodes", nodes, "--pods", pods, "--policy", "ddqn", "--model", ppo, "--output", output])
            : await VerbRun.InvokeAsync(Evaluate.EvaluateCommand.Create(), ["--nodes", nodes, "--pods", pods, "--variants", "none", "--policy", "ddqn", "--seed", "1", "--model", ppo]);
        Assert.Equal(64, exit); // EX_USAGE
        var line = Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"error: --model {ppo} holds a ppo model, but no ppo policy runs; add --policy ppo or leave the model out", line);
        Assert.False(Directory.Exists(output));
    }

    /// <summary>
    /// A pod no node could hold even empty (more GPUs than any node has, a GPU model no node has) was among the failures
    /// with nothing to tell a trace's mistake from a policy's: on four 4-GPU A10 nodes (SmallTrace.Nodes) a 16-GPU pod, a
    /// pod for H100s and a 3-GPU pod for A10s. The two that fit nowhere are named once on stderr and in summary.json's
    /// traceNotes; the run still goes on, exit 0.
    /// </summary>
    [Fact]
    public async Task Pods_that_fit_no_node_are_named_in_a_warning_and_the_trace_notes()
    {
        var pods = TestFiles.Temp("pods.csv", string.Join('\n',
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec", "ok,4000,8192,3,1000,A10", "huge,4000,8192,16,1000,", "h100,4000,8192,1,500,H100", "cpu,1000,1024,0,0,") + "\n");
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "fgd", "--seed", "1", "--output", output]);
        Assert.True(exit == 0, error);
        var note = $"2 pod(s) of {pods} fit no node even on the empty cluster, so every policy fails them (paper mode counts their GPUs in arrived demand): "
            + "'huge' requests cpu 4, memory 8Gi, nvidia.com/gpu 16, more than any node has; 'h100' asks for GPU model H100, which no node has";
        Assert.Equal($"warning: {note}", Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Contains(note, summary.RootElement.GetProperty("traceNotes").EnumerateArray().Select(n => n.GetString()));
    }

    /// <summary>
    /// Paper mode measures allocation against arrived GPU demand and tunes arrivals by it (PaperArrivals): a trace with no
    /// GPU pod reads allocAt130 0 whatever the policy, and --tune adds nothing, which the run did not say. One warning on
    /// stderr, kept in summary.json's traceNotes for replay; evaluate and train warn alike.
    /// </summary>
    [Theory]
    [InlineData("replay")]
    [InlineData("evaluate")]
    public async Task A_paper_run_of_a_trace_with_no_gpu_pod_warns_that_gpu_allocation_is_undefined(string verb)
    {
        var pods = TestFiles.Temp("pods.csv", string.Join('\n',
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec", "a,1000,1024,0,0,", "b,2000,2048,0,0,") + "\n");
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "out");
        var (exit, _, error) = verb == "replay"
            ? await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "fgd", "--seed", "1", "--tune", "2", "--output", output])
            : await VerbRun.InvokeAsync(Evaluate.EvaluateCommand.Create(), ["--nodes", SmallTrace.Nodes, "--pods", pods, "--variants", "none", "--policy", "best-fit", "--seed", "1"]);
        Assert.True(exit == 0, error);
        var note = $"no pod of {pods} asks for a GPU, so GPU allocation is undefined for it in paper mode, which measures and tunes "
            + "arrivals by GPU demand: allocAt130 reads 0 and --tune adds no pods";
        Assert.Equal($"warning: {note}", Assert.Single(error.Split(Environment.NewLine), l => l.StartsWith("warning:", StringComparison.Ordinal)));
        if (verb != "replay") return;
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Contains(note, summary.RootElement.GetProperty("traceNotes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(0, summary.RootElement.GetProperty("runs")[0].GetProperty("allocAt130").GetDouble());
    }

    /// <summary>
    /// Timed mode never counts arrived demand: the warning said "paper mode counts their GPUs in arrived demand" there too.
    /// A timed run counts such a pod as never placed, and the warning says so.
    /// </summary>
    [Fact]
    public async Task A_timed_replay_warns_of_pods_that_fit_no_node_in_timed_words()
    {
        var pods = TestFiles.Temp("pods.csv", string.Join('\n',
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time",
            "ok,4000,8192,1,1000,,LS,Running,0,100,0", "huge,4000,8192,16,1000,,LS,Running,10,200,") + "\n");
        var output = Path.Combine(Path.GetDirectoryName(pods)!, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "fgd", "--mode", "timed", "--seed", "1", "--output", output]);
        Assert.True(exit == 0, error);
        Assert.Equal($"warning: 1 pod(s) of {pods} fit no node even on the empty cluster, so every policy fails them (timed mode counts them as never placed): "
            + "'huge' requests cpu 4, memory 8Gi, nvidia.com/gpu 16, more than any node has",
            Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>A mistyped --model, or a file given for it, said "No metadata.json in model directory 'x'", as if x were a directory.</summary>
    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("pods.csv", "is a file, not a directory")]
    public async Task A_model_directory_that_is_not_one_is_named_as_such(string name, string problem)
    {
        var (nodes, pods) = Slice();
        var model = Path.Combine(Path.GetDirectoryName(pods)!, name);
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", nodes, "--pods", pods, "--policy", "ppo", "--model", model, "--output", Path.Combine(Path.GetDirectoryName(pods)!, "out")]);
        Assert.Equal(66, exit); // EX_NOINPUT
        Assert.Equal($"error: model directory '{model}' {problem}.", Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void Seed_ranges_expand()
    {
        Assert.Equal([42, 43, 44, 7], ReplayCommand.ParseSeeds(["42..44", "7"]));
        Assert.Equal([3, 4, 5, 1], ReplayCommand.ParseSeeds(["3..5,4", "1..1", "5"]));
        Assert.Equal([2147483646, 2147483647], ReplayCommand.ParseSeeds(["2147483646..2147483647"]));
        Assert.Throws<FormatException>(() => ReplayCommand.ParseSeeds(["x"]));
    }

    [Theory]
    [InlineData("5..1", "--seed '5..1' counts down; write 1..5")]
    // Evaluate said "Sequence contains no elements".
    [InlineData("", "give at least one --seed")]
    [InlineData(" , ", "give at least one --seed")]
    public void Seeds_that_give_no_run_are_refused(string seeds, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => ReplayCommand.ParseSeeds([seeds])).Message);

    [Theory]
    // Expanded before the first run, these filled memory (2e9 seeds) or overflowed the count (int.MinValue..int.MaxValue).
    [InlineData("1..2000000000", "--seed '1..2000000000' is 2000000000 seeds; at most 10000 in one run")]
    [InlineData("-2147483648..2147483647", "--seed '-2147483648..2147483647' is 4294967296 seeds; at most 10000 in one run")]
    [InlineData("1..10000,20000", "--seed gives more than 10000 seeds; at most 10000 in one run")]
    public void A_seed_range_too_large_to_run_is_refused(string seeds, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => ReplayCommand.ParseSeeds([seeds])).Message);
}
