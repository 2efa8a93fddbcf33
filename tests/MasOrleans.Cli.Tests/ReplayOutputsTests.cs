using System.Security.Cryptography;
using System.Text.Json;
using MasOrleans.Cli.Replay;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Cli.Tests;

/// <summary>What `mas replay --output` writes: where it came from, that it repeats, and a hand-made trace's numbers.</summary>
[Collection(ReplayCommandRuns.Name)]
public class ReplayOutputsTests
{
    [Fact]
    public async Task Summary_names_the_tool_commit_the_inputs_by_sha256_and_the_settings()
    {
        var dir = Path.GetDirectoryName(TestFiles.Temp("notes.md", "why\n"))!;
        var pods = SmallTrace.Pods(dir);
        var output = Path.Combine(dir, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "best-fit", "--set", "gpusel=worst", "--notes", Path.Combine(dir, "notes.md"), "--output", output]);
        Assert.True(exit == 0, error);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var provenance = summary.RootElement.GetProperty("provenance");
        Assert.Matches("^mas [0-9.]+\\+[0-9a-f]{40}$", provenance.GetProperty("tool").GetString());
        var inputs = provenance.GetProperty("inputs").EnumerateArray()
            .Select(i => (i.GetProperty("option").GetString(), i.GetProperty("path").GetString(), i.TryGetProperty("sha256", out var h) ? h.GetString() : null)).ToList();
        // The hashes are sha256sum's of SmallTrace's four-pod pods.csv and of "why\n"; a generator spec is its own content.
        Assert.Equal([
            ("--nodes", SmallTrace.Nodes, null),
            ("--pods", pods, "4f4604127bbe4e9a81de921322a73a4380630fea7014eaecbf80bdee3327d7f0"),
            ("--notes", Path.Combine(dir, "notes.md"), "7c870b5adf71a2547d8ddfadb1468d182a010024c239eed4ab3ad08ab14202e1"),
        ], inputs);
        Assert.Equal("worst", provenance.GetProperty("policySettings").GetProperty("gpusel").GetString());
        Assert.Contains($"- Tool: `{provenance.GetProperty("tool").GetString()}`", File.ReadAllText(Path.Combine(output, "report.md")));
    }

    /// <summary>
    /// A learned policy decides with a model that the command line may not name: the shipped one is searched for from the
    /// working directory upwards, so a researcher's own models/ppo there decided while summary.json named only the tool's
    /// commit, and a --model directory trained again in place gave other results under the same command. The model's files
    /// are inputs, each with its SHA-256 (what sha256sum prints). A path under the working directory (the shipped model above
    /// the test's binaries is not) is relative to it; another --model is as given.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Summary_names_the_files_of_each_learned_model_by_sha256(bool givenByModelOption)
    {
        var dir = Path.GetDirectoryName(TestFiles.Temp("x", ""))!;
        var pods = SmallTrace.Pods(dir);
        var model = Path.Combine(TestFiles.RepoRoot, "models", "ppo");
        if (givenByModelOption)
        {
            model = Path.Combine(dir, "my-ppo");
            Directory.CreateDirectory(model);
            foreach (var file in Directory.GetFiles(Path.Combine(TestFiles.RepoRoot, "models", "ppo"))) File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        }
        var output = Path.Combine(dir, "out");
        string[] modelOption = givenByModelOption ? ["--model", model] : [];
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "fgd", "--policy", "ppo", .. modelOption, "--output", output]);
        Assert.True(exit == 0, error);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var inputs = summary.RootElement.GetProperty("provenance").GetProperty("inputs").EnumerateArray()
            .Select(i => (i.GetProperty("option").GetString(), i.GetProperty("path").GetString(), i.TryGetProperty("sha256", out var h) ? h.GetString() : null)).ToList();
        var option = givenByModelOption ? "--model" : "models/ppo";
        var shown = givenByModelOption ? model : Path.GetRelativePath(Directory.GetCurrentDirectory(), model);
        var (weights, metadata) = (Path.Combine(shown, "actor-critic.weights"), Path.Combine(shown, "metadata.json"));
        Assert.Equal([
            ("--nodes", SmallTrace.Nodes, null),
            ("--pods", pods, "4f4604127bbe4e9a81de921322a73a4380630fea7014eaecbf80bdee3327d7f0"),
            (option, weights, Sha256Of(Path.Combine(model, "actor-critic.weights"))),
            (option, metadata, Sha256Of(Path.Combine(model, "metadata.json"))),
        ], inputs);
        Assert.Contains($"{option} `{weights}` `{Sha256Of(Path.Combine(model, "actor-critic.weights"))}`", File.ReadAllText(Path.Combine(output, "report.md")));
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>
    /// docs/replay-outputs.md: the same command writes the same files. The shipped model was recorded by the absolute path
    /// the search found it at, and a --model under the working directory as given (here absolute), so two copies of one
    /// directory wrote provenance that differed by the machine's paths. Both are relative to the working directory now.
    /// </summary>
    [Fact]
    public async Task Two_copies_of_a_directory_record_the_same_model_paths()
    {
        var root = Path.GetDirectoryName(TestFiles.Temp("x", ""))!;
        var shipped = Path.Combine(TestFiles.RepoRoot, "models");
        var summaries = new List<string>();
        foreach (var copy in new[] { "a", "b" })
        {
            var dir = Path.Combine(root, copy);
            foreach (var (from, to) in new[] { ("ddqn", Path.Combine("models", "ddqn")), ("ppo", "my-ppo") })
            {
                Directory.CreateDirectory(Path.Combine(dir, to));
                foreach (var file in Directory.GetFiles(Path.Combine(shipped, from))) File.Copy(file, Path.Combine(dir, to, Path.GetFileName(file)));
            }
            SmallTrace.Pods(dir);
            using var process = MasProcess.StartIn(dir, "replay", "--nodes", SmallTrace.Nodes, "--pods", "pods.csv", "--policy", "ddqn", "--policy", "ppo",
                "--model", Path.Combine(dir, "my-ppo"), "--output", "out");
            var error = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, await error);
            summaries.Add(File.ReadAllText(Path.Combine(dir, "out", "summary.json")));
        }

        var models = summaries.Select(json =>
        {
            using var summary = JsonDocument.Parse(json);
            return summary.RootElement.GetProperty("provenance").GetProperty("inputs").EnumerateArray()
                .Select(i => (i.GetProperty("option").GetString(), i.GetProperty("path").GetString())).Where(i => i.Item1 != "--nodes" && i.Item1 != "--pods").ToList();
        }).ToList();
        Assert.Equal([
            ("models/ddqn", Path.Combine("models", "ddqn", "metadata.json")),
            ("models/ddqn", Path.Combine("models", "ddqn", "online.weights")),
            ("--model", Path.Combine("my-ppo", "actor-critic.weights")),
            ("--model", Path.Combine("my-ppo", "metadata.json")),
        ], models[0]);
        Assert.Equal(models[0], models[1]);
    }

    /// <summary>Into a log Spectre wrapped "wrote ..." at 80 columns: a long --output was cut in two.</summary>
    [Fact]
    public async Task Into_a_log_each_run_and_the_report_are_one_line_each()
    {
        var dir = Path.GetDirectoryName(TestFiles.Temp("x", ""))!;
        var output = Path.Combine(dir, "an output directory with a name long enough to pass eighty columns");
        using var process = MasProcess.Start("replay", "--nodes", SmallTrace.Nodes, "--pods", SmallTrace.Pods(dir), "--policy", "fgd", "--seed", "1..2", "--output", output);
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = (await process.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await stderr);
        Assert.Equal(["fgd seed 1: done", "fgd seed 2: done", $"wrote {Path.Combine(output, "report.md")}"], lines.Select(l => l.Split(" (")[0]));
    }

    [Fact]
    public async Task The_reproducing_command_gives_a_shell_the_same_arguments_when_paths_have_spaces_and_quotes()
    {
        var dir = Path.Combine(Path.GetDirectoryName(TestFiles.Temp("x", ""))!, "my traces, Bob's");
        Directory.CreateDirectory(dir);
        var pods = SmallTrace.Pods(dir);
        var output = Path.Combine(dir, "out $HOME");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "best-fit", "--set", "gpusel=worst", "--output", output]);
        Assert.True(exit == 0, error);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var command = summary.RootElement.GetProperty("command").GetString()!;

        // bash reads the command with `mas` standing for a function that prints the arguments it was given, one a line.
        var shell = new System.Diagnostics.ProcessStartInfo("/bin/bash") { RedirectStandardInput = true, RedirectStandardOutput = true };
        using var bash = System.Diagnostics.Process.Start(shell)!;
        await bash.StandardInput.WriteAsync("mas() { printf '%s\\n' \"$@\"; }\n" + command + "\n");
        bash.StandardInput.Close();
        var arguments = (await bash.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await bash.WaitForExitAsync();
        Assert.Equal(["replay", "--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "best-fit", "--seed", "42", "--tune", "1.3", "--mode", "paper",
            "--set", "gpusel=worst", "--output", output], arguments);
    }

    [Fact]
    public async Task The_same_command_twice_writes_the_same_files_but_for_the_timings()
    {
        var dir = Path.GetDirectoryName(TestFiles.Temp("x", ""))!;
        var pods = SmallTrace.Pods(dir);
        string Run(int i) => Path.Combine(dir, $"run{i}");
        foreach (var i in new[] { 1, 2 })
        {
            var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
                ["--nodes", SmallTrace.Nodes, "--pods", pods, "--policy", "random", "--policy", "fgd", "--seed", "3..4", "--output", Run(i)]);
            Assert.True(exit == 0, error);
        }
        Assert.Equal(Directory.GetFiles(Run(1)).Select(Path.GetFileName).Order(), Directory.GetFiles(Run(2)).Select(Path.GetFileName).Order());
        foreach (var file in Directory.GetFiles(Run(1)).Select(Path.GetFileName).Where(f => f is not ("summary.json" or "report.md")))
            Assert.True(File.ReadAllBytes(Path.Combine(Run(1), file!)).SequenceEqual(File.ReadAllBytes(Path.Combine(Run(2), file!))), $"{file} differs");
        // summary.json differs in the --output it names and in the measured speed, nothing else.
        static string Steady(string path) => File.ReadAllText(path).Split('\n')
            .Where(l => !l.Contains("\"wallSeconds\"") && !l.Contains("\"decisionsPerSecond\"") && !l.Contains("\"command\"")).Aggregate("", (a, l) => a + l + "\n");
        Assert.Equal(Steady(Path.Combine(Run(1), "summary.json")), Steady(Path.Combine(Run(2), "summary.json")));
    }

    /// <summary>
    /// The paper's figures are set beside ours only for the paper's experiment: its trace and its 1,213-node cluster (by
    /// content), its protocol (paper mode, tune 1.3) and its policies as published (no --set). They were set beside any
    /// trace whose file was named like one of the paper's, on any cluster, at any tune.
    /// </summary>
    [Theory]
    [InlineData("own trace named like the paper's", "--tune", "1.3")]
    [InlineData("the paper's trace on another cluster", "--tune", "1.3")]
    [InlineData("the paper's trace and cluster at another tune", "--tune", "1.5")]
    [InlineData("the paper's trace and cluster with a setting", "--set", "gpusel=worst")]
    public async Task The_papers_figures_are_shown_only_for_the_papers_experiment(string what, string option, string value)
    {
        var root = Path.Combine(TestFiles.RepoRoot, "data", "traces", "openb");
        var dir = Path.GetDirectoryName(TestFiles.Temp("x", ""))!;
        var (nodes, pods) = what switch
        {
            "own trace named like the paper's" => (SmallTrace.Nodes, CopyAs(SmallTrace.Pods(dir), Path.Combine(dir, "openb_pod_list_default.csv"))),
            "the paper's trace on another cluster" => (SmallTrace.Nodes, Path.Combine(root, "openb_pod_list_default.csv")),
            _ => (Path.Combine(root, "openb_node_list_gpu_node.csv"), Path.Combine(root, "openb_pod_list_default.csv")),
        };
        var output = Path.Combine(dir, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(),
            ["--nodes", nodes, "--pods", pods, "--policy", "best-fit", "--seed", "42", option, value, "--output", output]);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("Paper = published", File.ReadAllText(Path.Combine(output, "report.md")));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.False(summary.RootElement.GetProperty("means")[0].TryGetProperty("publishedAllocAt130", out _), what);
    }

    [Fact]
    public async Task The_papers_experiment_is_set_beside_the_papers_figures()
    {
        var root = Path.Combine(TestFiles.RepoRoot, "data", "traces", "openb");
        var output = Path.Combine(Path.GetDirectoryName(TestFiles.Temp("x", ""))!, "out");
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(), ["--nodes", Path.Combine(root, "openb_node_list_gpu_node.csv"),
            "--pods", Path.Combine(root, "openb_pod_list_default.csv"), "--policy", "best-fit", "--seed", "42", "--output", output]);
        Assert.True(exit == 0, error);
        Assert.Contains("Paper = published mean of 10 seeds on openb `default`", File.ReadAllText(Path.Combine(output, "report.md")));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(93.08, summary.RootElement.GetProperty("means")[0].GetProperty("publishedAllocAt130").GetDouble()); // BestFit, the paper's table
    }

    private static string CopyAs(string from, string to)
    {
        File.Copy(from, to);
        return to;
    }

    /// <summary>
    /// A trace of one's own in the documented openb formats, through every registered policy: each runs. kube and best-fit
    /// give the allocations worked out by hand in Scheduling's HandDerivedReplayTests (nodes a and b with one GPU; pods of
    /// half, half, one and one GPU; seed 1 arrives 2, 3, 4, 1 and seed 4 arrives 1, 2, 3, 4).
    /// </summary>
    [Fact]
    public async Task A_hand_made_two_node_trace_runs_through_every_policy_with_the_hand_derived_numbers()
    {
        var nodes = TestFiles.Temp("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nnode-a,8000,524288,1,T4\nnode-b,8000,524288,1,T4\n");
        var dir = Path.GetDirectoryName(nodes)!;
        var pods = Path.Combine(dir, "pods.csv");
        File.WriteAllText(pods, "name,cpu_milli,memory_mib,num_gpu,gpu_milli\npod-1,1000,1024,1,500\npod-2,1000,1024,1,500\npod-3,1000,1024,1,1000\npod-4,1000,1024,1,1000\n");
        var policies = PolicyCatalog.CreateDefault();
        LearnedModelOption.Register(policies, []);
        var args = new List<string> { "--nodes", nodes, "--pods", pods, "--seed", "1", "--seed", "4", "--output", Path.Combine(dir, "out") };
        foreach (var p in policies.Policies) args.AddRange(["--policy", p.Name]);
        var (exit, _, error) = await VerbRun.InvokeAsync(ReplayCommand.Create(), [.. args]);
        Assert.True(exit == 0, error);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "out", "summary.json")));
        var runs = summary.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(policies.Policies.Count * 2, runs.Count);
        double At130(string policy, int seed) => runs.Single(r => r.GetProperty("policy").GetString() == policy && r.GetProperty("seed").GetInt32() == seed)
            .GetProperty("allocAt130").GetDouble();
        Assert.Equal(75, At130("kube", 1), 9);
        Assert.Equal(50, At130("kube", 4), 9);
        Assert.Equal(75, At130("best-fit", 1), 9);
        Assert.Equal(100, At130("best-fit", 4), 9);
    }
}
