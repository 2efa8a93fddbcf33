using System.Globalization;
using System.Text.Json;
using MasOrleans.Cli.Evaluate;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Cli.Tests.Train;

/// <summary>The real `mas evaluate` verb (parsing included) on a tiny generated cluster.</summary>
[Collection(ReplayCommandRuns.Name)]
public class EvaluateVerbTests
{
    private const string Nodes = "gen:count=6,cpu=64,memory=256Gi,gpu=4,model=A10";

    private static string WritePods(string dir)
    {
        var path = Path.Combine(dir, "pods.csv");
        var random = new Random(4);
        var lines = new List<string> { "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec" };
        for (var i = 0; i < 60; i++)
        {
            var (count, milli) = random.Next(5) switch { 0 => (0, 0), 1 => (1, 250 * (1 + random.Next(3))), 2 or 3 => (1, 1000), _ => (2, 1000) };
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"p{i:D3},{2000 + 1000 * random.Next(6)},8192,{count},{milli},"));
        }
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task Evaluate_pairs_seeds_per_workload_and_writes_json()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var output = Path.Combine(temp, "out.json");
        var code = await UserErrors.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", pods, "--variants", "share50,cpu20", "--policy", "fgd-weighted", "--seed", "1..2", "--output", output]);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(File.ReadAllText(output));
        var rows = json.RootElement.GetProperty("comparisons").EnumerateArray().ToList();
        Assert.Equal(["pods", "share50", "cpu20"], rows.Select(r => r.GetProperty("workload").GetString()));
        Assert.Equal(["trace", "held-out variant", "held-out variant"], rows.Select(r => r.GetProperty("kind").GetString()));
        // One casing, camelCase as summary.json: the policies' runs and the gain's counts were "Policy", ..., "Wins", "Ties",
        // "Losses" beside "mean" and "min" (the anonymous objects' property names, with no naming policy).
        Assert.Equal(["command", "provenance", "tune", "seeds", "comparisons"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["workload", "kind", "mix", "baseline", "candidate", "gain"], rows[0].EnumerateObject().Select(p => p.Name));
        foreach (var side in new[] { "baseline", "candidate" })
            Assert.Equal(["policy", "seeds", "alloc", "mean", "spread"], rows[0].GetProperty(side).EnumerateObject().Select(p => p.Name));
        Assert.Equal(["mean", "min", "wins", "ties", "losses"], rows[0].GetProperty("gain").EnumerateObject().Select(p => p.Name));
        foreach (var row in rows)
        {
            var baseline = row.GetProperty("baseline").GetProperty("alloc").EnumerateArray().Select(a => a.GetDouble()).ToList();
            var candidate = row.GetProperty("candidate").GetProperty("alloc").EnumerateArray().Select(a => a.GetDouble()).ToList();
            Assert.Equal(2, baseline.Count);
            Assert.Equal(candidate.Zip(baseline, (c, b) => c - b).Average(), row.GetProperty("gain").GetProperty("mean").GetDouble(), 9);
        }
    }

    /// <summary>
    /// The JSON had the rows alone: which build, which inputs (a trace edited in place keeps its name) and which --set
    /// made them was not in it. It carries replay's provenance (RunProvenance, the same object summary.json has) and the
    /// command as given, quoted for a shell (the trace's directory has a space).
    /// </summary>
    [Fact]
    public async Task The_json_names_the_tool_the_inputs_by_content_and_the_settings()
    {
        using var temp = new TempDirectory();
        var dir = Directory.CreateDirectory(Path.Combine(temp, "my traces")).FullName;
        var pods = WritePods(dir);
        var other = Path.Combine(dir, "other.csv");
        File.WriteAllLines(other, File.ReadLines(pods).Take(21));
        var output = Path.Combine(temp, "out.json");
        var (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", pods, "--trace", other, "--variants", "none", "--policy", "best-fit", "--set", "gpusel=worst", "--seed", "1..2", "--output", output]);
        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(File.ReadAllText(output));
        var root = json.RootElement;
        Assert.Equal($"mas evaluate --nodes {Nodes} --pods '{pods}' --trace '{other}' --variants none --policy best-fit --set gpusel=worst --seed 1..2 --output {output}",
            root.GetProperty("command").GetString());
        var provenance = root.GetProperty("provenance");
        Assert.Matches("^mas [0-9.]+\\+[0-9a-f]{40}$", provenance.GetProperty("tool").GetString());
        var inputs = provenance.GetProperty("inputs").EnumerateArray()
            .Select(i => (i.GetProperty("option").GetString(), i.GetProperty("path").GetString(), i.TryGetProperty("sha256", out var h) ? h.GetString() : null)).ToList();
        // sha256sum's of the files' bytes; a generator spec is its own content.
        static string Sha256(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Equal([("--nodes", Nodes, null), ("--pods", pods, Sha256(pods)), ("--trace", other, Sha256(other))], inputs);
        Assert.NotEqual(Sha256(pods), Sha256(other));
        Assert.Equal("worst", provenance.GetProperty("policySettings").GetProperty("gpusel").GetString());
        Assert.Equal(1.3, root.GetProperty("tune").GetDouble());
        Assert.Equal([1, 2], root.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
        Assert.Equal(["pods", "other"], root.GetProperty("comparisons").EnumerateArray().Select(r => r.GetProperty("workload").GetString()));
    }

    /// <summary>
    /// A learned policy's model is an input as the traces are (replay's rule, LearnedModelOption.Load): the JSON named
    /// neither the shipped model a baseline ddqn found nor a --model's files, so a model trained again in place gave other
    /// numbers under the same provenance.
    /// </summary>
    [Fact]
    public async Task The_json_names_the_files_of_the_models_that_decided()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var ppo = Path.Combine(temp, "my-ppo");
        Directory.CreateDirectory(ppo);
        foreach (var file in Directory.GetFiles(Path.Combine(TestFiles.RepoRoot, "models", "ppo"))) File.Copy(file, Path.Combine(ppo, Path.GetFileName(file)));
        var output = Path.Combine(temp, "out.json");
        var (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", pods, "--variants", "none", "--baseline", "ddqn", "--policy", "ppo", "--model", ppo, "--seed", "1", "--output", output]);
        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(File.ReadAllText(output));
        var inputs = json.RootElement.GetProperty("provenance").GetProperty("inputs").EnumerateArray()
            .Select(i => (i.GetProperty("option").GetString(), i.GetProperty("path").GetString())).ToList();
        // The shipped model, found above the tests' working directory, relative to it (docs/replay-outputs.md).
        var ddqn = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Combine(TestFiles.RepoRoot, "models", "ddqn"));
        Assert.Equal([("--nodes", Nodes), ("--pods", pods),
            ("models/ddqn", Path.Combine(ddqn, "metadata.json")), ("models/ddqn", Path.Combine(ddqn, "online.weights")),
            ("--model", Path.Combine(ppo, "actor-critic.weights")), ("--model", Path.Combine(ppo, "metadata.json"))], inputs);
    }

    /// <summary>
    /// A --trace pod that no node fits (8 GPUs on 4-GPU nodes) failed on every seed under every policy with nothing said:
    /// replay's warning, once per trace file, after the runs.
    /// </summary>
    [Fact]
    public async Task A_trace_pod_that_fits_no_node_is_a_warning()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var other = Path.Combine(temp, "other.csv");
        File.WriteAllLines(other, [.. File.ReadLines(pods).Take(11), "big,4000,8192,8,1000,"]);
        var (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", pods, "--trace", other, "--variants", "none", "--policy", "best-fit", "--seed", "1"]);
        Assert.True(exit == 0, error);
        var warnings = error.Split(Environment.NewLine).Where(l => l.StartsWith("warning:", StringComparison.Ordinal));
        Assert.Equal([$"warning: 1 pod(s) of {other} fit no node even on the empty cluster, so every policy fails them (paper mode counts their GPUs in arrived demand): "
            + "'big' requests cpu 4, memory 8Gi, nvidia.com/gpu 8, more than any node has"], warnings);
    }

    /// <summary>
    /// The baseline given again as a candidate (fgd is the default baseline; the catalog reads names in any case) ran and
    /// printed a row of zero gains and ties, which reads as a result. It is refused, before any run.
    /// </summary>
    [Theory]
    [InlineData(new string[0], "FGD", "fgd")]
    [InlineData(new[] { "--baseline", "best-fit" }, "best-fit", "best-fit")]
    public async Task The_baseline_as_a_candidate_is_refused(string[] baseline, string candidate, string named)
    {
        using var temp = new TempDirectory();
        var (exit, output, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", WritePods(temp), "--variants", "none", .. baseline, "--policy", "fgd-ties", "--policy", candidate, "--seed", "1"]);
        Assert.Equal(64, exit);
        Assert.Equal($"error: --policy {named} is the --baseline: compared with itself it ties on every seed; give other candidates, or another --baseline", error.Trim());
        Assert.Empty(output);
    }

    /// <summary>
    /// --idle compares nothing: it prints where each named policy leaves its unallocated GPUs, the baseline's too, so the
    /// baseline named as the policy is the plain way to ask for it (docs/learning.md runs `mas evaluate ... --policy fgd
    /// --seed 42 --idle`). The refusal of the baseline as a candidate refused that too, exit 64 "ties on every seed".
    /// </summary>
    [Fact]
    public async Task The_idle_breakdown_of_the_baseline_itself_is_printed()
    {
        using var temp = new TempDirectory();
        var (exit, output, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", WritePods(temp), "--variants", "none", "--policy", "fgd", "--seed", "1", "--idle"]);
        Assert.True(exit == 0, error);
        // One line per workload and distinct policy: the baseline and the candidate are one policy here.
        Assert.StartsWith("pods fgd seed 1: ", Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task Two_workloads_of_one_name_are_refused_rather_than_paired_with_each_others_runs()
    {
        // Runs are paired by workload name: two traces both named "pods" (by file name), or a trace written by
        // --write-variants next to the variant it holds, gave both rows the numbers of whichever ran last.
        using var temp = new TempDirectory();
        var first = WritePods(temp);
        var other = Directory.CreateDirectory(Path.Combine(temp, "other")).FullName;
        File.WriteAllLines(Path.Combine(other, "pods.csv"), File.ReadLines(first).Take(31));
        var variantFile = Path.Combine(temp, "openb_pod_list_cpu20.csv");
        File.Copy(first, variantFile);
        var (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", first, "--trace", Path.Combine(other, "pods.csv"), "--variants", "none", "--policy", "best-fit", "--seed", "1"]);
        Assert.Equal(64, exit);
        Assert.Contains($"error: two workloads are named 'pods' ({first} and {Path.Combine(other, "pods.csv")})", error);
        (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", first, "--trace", variantFile, "--variants", "cpu20", "--policy", "best-fit", "--seed", "1"]);
        Assert.Equal(64, exit);
        Assert.Contains($"error: two workloads are named 'cpu20' ({variantFile} and the variant cpu20)", error);
    }

    [Fact]
    public async Task A_variant_written_by_write_variants_and_given_back_as_a_trace_is_a_name_clash()
    {
        // The written cpu20 is the same pods as the cpu20 variant: refused by name (exit 64, as learning.md and
        // PolicyComparison.Build say), not left out as a repeat of the trace with a warning and a zero exit.
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var dir = Path.Combine(temp, "variants");
        Assert.Equal(0, await UserErrors.InvokeAsync(EvaluateCommand.Create(), ["--nodes", Nodes, "--pods", pods, "--variants", "cpu20", "--write-variants", dir]));
        var written = Path.Combine(dir, "openb_pod_list_cpu20.csv");
        var (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), [
            "--nodes", Nodes, "--pods", pods, "--trace", written, "--variants", "cpu20", "--policy", "best-fit", "--seed", "1"]);
        Assert.Equal(64, exit);
        Assert.Contains($"error: two workloads are named 'cpu20' ({written} and the variant cpu20)", error);
    }

    [Fact]
    public void The_table_counts_ties_apart_from_wins_and_losses_and_its_statistics_are_the_hand_computed_ones()
    {
        // Baseline 90, 92, 94: mean 92, sample sd sqrt((4 + 0 + 4) / 2) = 2. Candidate 91, 92, 93: mean 92, sd 1.
        // Paired gains +1, 0, -1: mean 0, min -1; one win, one tie (equal allocation on seed 2), one loss.
        var workload = new Workload("w", "trace", []);
        int[] seeds = [1, 2, 3];
        var row = new WorkloadComparison(workload, new PolicyRuns("fgd", seeds, [90, 92, 94]), new PolicyRuns("best-fit", seeds, [91, 92, 93]));
        var table = EvaluateCommand.Render([row], seeds);
        Assert.Contains("| gain (mean) | gain (min) | wins/ties/losses |", table);
        Assert.Contains("| w | trace | fgd | 92.00 ± 2.00 | best-fit | 92.00 ± 1.00 | 0.00 | -1.00 | 1/1/1 |", table);
    }

    [Fact]
    public void One_seed_has_no_sample_spread_and_none_is_printed()
    {
        // A sample standard deviation needs two values; with one seed "± 0.00" read as "no variation between seeds".
        var row = new WorkloadComparison(new Workload("w", "trace", []), new PolicyRuns("fgd", [7], [90]), new PolicyRuns("best-fit", [7], [91]));
        Assert.Null(row.Baseline.Spread);
        Assert.Contains("| w | trace | fgd | 90.00 | best-fit | 91.00 | +1.00 | +1.00 | 1/0/0 |", EvaluateCommand.Render([row], [7]));
    }

    [Fact]
    public async Task Written_variants_read_back_with_the_resamplers_mix()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var dir = Path.Combine(temp, "variants");
        Assert.Equal(0, await UserErrors.InvokeAsync(EvaluateCommand.Create(), ["--nodes", Nodes, "--pods", pods, "--variants", "mix-all", "--write-variants", dir]));
        var written = TraceLoader.LoadPods(Path.Combine(dir, "openb_pod_list_mix-all.csv")).Pods;
        var expected = TraceResampler.Resample(TraceLoader.LoadPods(pods).Pods, WorkloadVariants.Select("mix-all")[0].Targets, TraceLoader.LoadNodes(Nodes), 1);
        Assert.Equal(WorkloadMix.Of(expected.Select(t => t.Pod)), WorkloadMix.Of(written.Select(t => t.Pod)));
        Assert.Equal(expected.Select(t => t.Pod.Requests), written.Select(t => t.Pod.Requests));
    }

    [Fact]
    public async Task A_variant_that_leaves_the_trace_as_it_is_is_not_written_and_is_named()
    {
        // A fifth of this trace's pods, a quarter of its GPU pods, take two GPUs: multi3 (3% of GPU pods multi-GPU) adds
        // none and would be the trace again under another name, as evaluate leaves it out; share65 converts pods.
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var dir = Path.Combine(temp, "variants");
        var (exit, _, error) = await VerbRun.InvokeAsync(EvaluateCommand.Create(), ["--nodes", Nodes, "--pods", pods, "--variants", "multi3,share65", "--write-variants", dir]);
        Assert.True(exit == 0, error);
        Assert.Contains($"warning: variant multi3 (3% of GPU pods multi-GPU) is the same pods as {pods}", error);
        Assert.Equal(["openb_pod_list_share65.csv"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Unknown_variants_or_policies_fail_with_a_message()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        Assert.Equal(64, await UserErrors.InvokeAsync(EvaluateCommand.Create(), ["--nodes", Nodes, "--pods", pods, "--variants", "nope", "--policy", "fgd"]));
        Assert.Equal(64, await UserErrors.InvokeAsync(EvaluateCommand.Create(), ["--nodes", Nodes, "--pods", pods, "--variants", "none", "--policy", "no-such-policy"]));
    }

    /// <summary>
    /// `--variants ""` ran as `--variants none` (the traces alone, exit 0) while every other empty value is refused
    /// (`--seed ""`: "give at least one --seed", exit 64). tune-ties reads the same selection.
    /// </summary>
    [Theory]
    [InlineData("evaluate", "")]
    [InlineData("evaluate", " , ")]
    [InlineData("tune-ties", "")]
    public async Task A_variant_selection_naming_nothing_is_refused_before_any_run(string verb, string selection)
    {
        using var temp = new TempDirectory();
        var (command, rest) = verb == "evaluate"
            ? (EvaluateCommand.Create(), new[] { "--policy", "best-fit", "--seed", "1" })
            : (MasOrleans.Cli.Tune.TuneTiesCommand.Create(), ["--seed", "1000", "--generations", "1", "--population", "2", "--elite", "1"]);
        var (exit, output, error) = await VerbRun.InvokeAsync(command, ["--nodes", Nodes, "--pods", WritePods(temp), "--variants", selection, .. rest]);
        Assert.Equal((64, ""), (exit, output)); // EX_USAGE, nothing run
        Assert.Equal($"error: --variants '{selection}' names no variant: give all, train, near-default, near-families, held-out, none, or variant names separated by commas (none: the traces alone)",
            error.TrimEnd('\n', '\r'));
    }

    [Fact]
    public async Task A_setting_neither_the_baseline_nor_a_candidate_reads_fails_with_its_name()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            // gpusel is read by the baseline (best-fit) only, zz by no policy, and an empty key is no key=value.
            Assert.Equal(64, await UserErrors.InvokeAsync(EvaluateCommand.Create(), ["--nodes", Nodes, "--pods", pods, "--variants", "none",
                "--baseline", "best-fit", "--policy", "kube", "--set", "gpusel=worst", "--set", "zz=1"]));
            Assert.Equal(64, await UserErrors.InvokeAsync(EvaluateCommand.Create(), ["--nodes", Nodes, "--pods", pods, "--variants", "none",
                "--policy", "kube", "--set", "=1"]));
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Contains("no policy among best-fit, kube reads the setting 'zz':", error.ToString());
        Assert.Contains("--set '=1' is not key=value", error.ToString());
    }
}
