using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MasOrleans.Cli.Replay;
using MasOrleans.Cli.Train;
using MasOrleans.Learning;
using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Cli.Tests.Train;

/// <summary>The real `mas train` verb (parsing included) on a tiny generated cluster, and `mas replay --model` on its output.</summary>
[Collection(ReplayCommandRuns.Name)]
public class TrainVerbTests
{
    private const string Nodes = "gen:count=6,cpu=64,memory=256Gi,gpu=4,model=A10";

    private static string WritePods(string dir)
    {
        var path = Path.Combine(dir, "pods.csv");
        var random = new Random(2);
        var lines = new List<string> { "name,cpu_milli,memory_mib,num_gpu,gpu_milli" };
        for (var i = 0; i < 40; i++)
        {
            var (count, milli) = random.Next(3) switch { 0 => (1, 250 * (1 + random.Next(3))), 1 => (1, 1000), _ => (2, 1000) };
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"p{i:D3},{4000 + 1000 * random.Next(8)},8192,{count},{milli}"));
        }
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task Train_writes_a_model_directory_that_replay_loads_with_model()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        var model = Path.Combine(temp, "model");
        var code = await UserErrors.InvokeAsync(TrainCommand.Create(), [
            "--algo", "ppo", "--nodes", Nodes, "--pods", pods, "--episodes", "2", "--seed", "1000",
            "--pretrain", "fgd", "--pretrain-episodes", "1", "--validate-every", "1", "--output", model]);
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(model, "training-curve.png")));
        AssertCurveHasNumbersOnly(Path.Combine(model, "training-curve.json"));
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "metadata.json")));
        Assert.StartsWith("mas train --algo ppo", metadata.RootElement.GetProperty("command").GetString());
        Assert.Equal(1000, metadata.RootElement.GetProperty("seed").GetInt32());
        // The pods by content (sha256sum's of the file); a generator spec is its own content.
        Assert.Equal($"{Nodes} + {pods} (sha256 {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(pods)))}) (paper protocol, tune 1.3)",
            metadata.RootElement.GetProperty("trace").GetString());

        var catalog = PolicyCatalog.CreateDefault();
        var models = LearnedModelOption.Register(catalog, [model]);
        var replay = ReplayJob.Run(new ReplayRequest
        {
            Nodes = Nodes, Pods = pods, Policies = ["ppo"], Seeds = [42], Output = Path.Combine(temp, "replay"), Models = models,
        }, catalog);
        Assert.Contains("--model " + model, replay.Command);
        Assert.True(replay.Runs.Single().PlacedPods > 0);
    }

    /// <summary>
    /// Into a log (stdout not a terminal) Spectre's progress fell back to a snapshot now and then: episodes went missing, the
    /// last word before "saved" was an episode before the last, and the "saved" line was wrapped at 80 columns. Each
    /// episode is one line there, then "saved" whole.
    /// </summary>
    [Fact]
    public async Task Into_a_log_every_episode_is_one_line_and_saved_is_one_line()
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp, "a model directory with a name long enough to pass eighty columns");
        using var process = MasProcess.Start("train", "--algo", "ppo", "--nodes", Nodes, "--pods", WritePods(temp),
            "--episodes", "3", "--validate-every", "1", "--seed", "1000", "--output", output);
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = (await process.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await stderr);
        Assert.Equal(["ppo ep 0/3 ", "ppo ep 1/3 ", "ppo ep 2/3 ", "ppo ep 3/3 "], lines[..^1].Select(l => l[..11]));
        Assert.Matches($"^saved {System.Text.RegularExpressions.Regex.Escape(output)} \\(best validation GPU allocation [0-9]+\\.[0-9]{{2}}% at episode [0-3]; [0-9]+ s; curve training-curve.png\\)$", lines[^1]);
    }

    /// <summary>A pod no node fits (8 GPUs on 4-GPU nodes) was in every episode with nothing said: replay's warning, after training.</summary>
    [Fact]
    public async Task A_pod_that_fits_no_node_is_a_warning()
    {
        using var temp = new TempDirectory();
        var pods = WritePods(temp);
        File.AppendAllLines(pods, ["big,4000,8192,8,1000"]);
        var (exit, _, error) = await VerbRun.InvokeAsync(TrainCommand.Create(), [
            "--algo", "ppo", "--nodes", Nodes, "--pods", pods, "--episodes", "1", "--seed", "1000", "--output", Path.Combine(temp, "m")]);
        Assert.True(exit == 0, error);
        Assert.Equal($"warning: 1 pod(s) of {pods} fit no node even on the empty cluster, so every policy fails them (paper mode counts their GPUs in arrived demand): "
            + "'big' requests cpu 4, memory 8Gi, nvidia.com/gpu 8, more than any node has", Assert.Single(error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>
    /// The curve read as plain JSON (no named floating-point literals): each point's numeric fields are numbers, or null
    /// where the warm start has no value (its training reward); they were the string "NaN" there.
    /// </summary>
    private static void AssertCurveHasNumbersOnly(string path)
    {
        using var curve = JsonDocument.Parse(File.ReadAllText(path));
        var points = curve.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(points);
        string[] numeric = ["episode", "reward", "gpuAllocPercent", "validationAllocPercent", "explorationValue"];
        foreach (var point in points)
        {
            foreach (var name in numeric)
                Assert.True(point.GetProperty(name).ValueKind is JsonValueKind.Number or JsonValueKind.Null, $"{name}: {point}");
        }
        Assert.Equal("warm start", points[0].GetProperty("phase").GetString());
        Assert.Equal(JsonValueKind.Null, points[0].GetProperty("reward").ValueKind);
    }

    /// <summary>
    /// Ctrl+C in the middle of a run. Checkpoints used to be saved into --output as training went, so an interrupted run
    /// left its warm start there, with metadata.json naming the whole run's command and episodes, beside the previous
    /// model's training curve: a model that `mas replay --model` and the silo load as if it were finished.
    /// </summary>
    [Fact]
    public async Task An_interrupted_training_leaves_the_previous_model_in_output_as_it_was()
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp, "model");
        using (var previous = PlacementTraining.CreateAgent(new PlacementTrainingOptions { Algorithm = "ppo", Seed = 7 }))
            previous.Save(output, new ModelProvenance(Command: "the previous model"));
        File.WriteAllText(Path.Combine(output, "training-curve.json"), "[]");
        var before = Snapshot(output);

        // Validated only at the warm start (episode 0); a million episodes run until the signal.
        using var process = MasProcess.Start("train", "--algo", "ppo", "--nodes", Nodes, "--pods", WritePods(temp),
            "--episodes", "1000000", "--validate-every", "1000000", "--seed", "1000", "--output", output);
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // The progress line names an episode only after the warm start was validated (and checkpointed).
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.Contains("ppo ep ", StringComparison.Ordinal)) { }
            if (line is null)
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Fail($"mas train ended before its first episode (exit code {process.ExitCode}): {await stderr}");
            }
            // SIGTERM, not Ctrl+C's SIGINT: a test run started in the background (`cmd &` in a script, as CI may) hands its
            // children SIGINT ignored, and they would train on. Either signal ends the process where it is.
            Assert.True(Signals.Send(process.Id, Signals.Terminate), "SIGTERM to mas train was not sent");
            _ = process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        Assert.Equal(before, Snapshot(output));
    }

    /// <summary>
    /// Episode e replays arrival seed seed+e, demonstrations seed+10000+e, validation seed+20000. Past int's largest value
    /// (2147483647) these wrapped round to negative seeds; --episodes 2147483647 was first an OutOfMemoryException (exit
    /// code 70, the trainer reserved a report per episode), after the warm start had been checkpointed.
    /// </summary>
    [Theory]
    [InlineData("1000", "2147483647", "the 2147483647 RL episodes' arrival seeds up to 2147484646")] // 1000 + 2147483647 - 1
    [InlineData("2147483000", "2", "the validation arrival seed 2147503000")] // 2147483000 + 20000
    public async Task Train_refuses_seeds_past_the_largest_seed(string seed, string episodes, string named)
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp, "m");
        var (exit, _, error) = await VerbRun.InvokeAsync(TrainCommand.Create(), [
            "--algo", "ppo", "--nodes", Nodes, "--pods", WritePods(temp), "--episodes", episodes, "--seed", seed, "--output", output]);
        Assert.Equal(64, exit); // EX_USAGE
        Assert.Equal($"error: --seed {seed} would use {named}, past the largest seed 2147483647; pick a smaller --seed or fewer episodes",
            error.Trim());
        Assert.False(Directory.Exists(output));
    }

    /// <summary>Each file's name and SHA-256.</summary>
    private static SortedDictionary<string, string> Snapshot(string directory) => new(
        Directory.EnumerateFiles(directory).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    [Fact]
    public async Task Train_refuses_seeds_that_overlap_the_evaluation_seeds()
    {
        using var temp = new TempDirectory();
        var output = new StringWriter();
        var previous = Console.Error;
        Console.SetError(output);
        try
        {
            var code = await UserErrors.InvokeAsync(TrainCommand.Create(), [
                "--algo", "ddqn", "--nodes", Nodes, "--pods", WritePods(temp), "--episodes", "5", "--seed", "40", "--output", Path.Combine(temp, "m")]);
            Assert.Equal(64, code); // EX_USAGE: --seed overlaps the evaluation seeds
        }
        finally
        {
            Console.SetError(previous);
        }
        Assert.Contains("evaluation seed(s) 42, 43, 44", output.ToString());
        Assert.False(Directory.Exists(Path.Combine(temp, "m")));
    }
}
