using System.Globalization;
using System.Text.Json;
using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;
using Spectre.Console;

namespace MasOrleans.Cli.Replay;

internal sealed record ReplayRequest
{
    public required string Nodes { get; init; }
    public required string Pods { get; init; }
    public required IReadOnlyList<string> Policies { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public double Tune { get; init; } = 1.3;
    public ReplayMode Mode { get; init; } = ReplayMode.Paper;
    public required string Output { get; init; }
    public long NicMbps { get; init; } = 100_000;
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public string? NotesFile { get; init; }
    /// <summary>
    /// The --model directory of each learned algorithm given one (<see cref="LearnedModelOption.Register"/>; empty: the
    /// shipped models): the one map the policies, the provenance and the command line read.
    /// </summary>
    public IReadOnlyDictionary<string, string> Models { get; init; } = new Dictionary<string, string>();

    /// <summary>The canonical command line that reproduces this run, quoted so that a POSIX shell reads back the same arguments.</summary>
    public string CommandLine()
    {
        var parts = new List<string> { "mas replay", $"--nodes {CommandLines.Quote(Nodes)}", $"--pods {CommandLines.Quote(Pods)}" };
        parts.AddRange(Policies.Select(p => $"--policy {CommandLines.Quote(p)}"));
        parts.Add("--seed " + SeedText());
        if (Mode == ReplayMode.Paper) parts.Add($"--tune {Tune.ToString(CultureInfo.InvariantCulture)}");
        parts.Add($"--mode {Mode.ToString().ToLowerInvariant()}");
        if (NicMbps != 100_000) parts.Add($"--nic-mbps {NicMbps}");
        parts.AddRange(Settings.Select(kv => $"--set {CommandLines.Quote($"{kv.Key}={kv.Value}")}"));
        if (NotesFile is not null) parts.Add($"--notes {CommandLines.Quote(NotesFile)}");
        parts.AddRange(Models.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"--model {CommandLines.Quote(m.Value)}"));
        parts.Add($"--output {CommandLines.Quote(Output)}");
        return string.Join(' ', parts);
    }

    private string SeedText()
    {
        var contiguous = Seeds.Count > 1 && Seeds.Zip(Seeds.Skip(1)).All(p => p.Second == p.First + 1);
        return contiguous ? $"{Seeds[0]}..{Seeds[^1]}" : string.Join(' ', Seeds);
    }
}

/// <summary>Loads the inputs, runs every (policy, seed) with a progress bar, and writes the outputs.</summary>
internal static class ReplayJob
{
    /// <param name="catalog">Holds the learned policies registered with <see cref="ReplayRequest.Models"/>.</param>
    public static ReplaySummary Run(ReplayRequest request, PolicyCatalog catalog)
    {
        foreach (var p in request.Policies)
        {
            if (!catalog.Contains(p)) throw new UnknownPolicyException(catalog.UnknownPolicyMessage(p));
        }
        if (request.Seeds.Count == 0) throw new UserArgumentException("give at least one --seed");
        catalog.CheckSettings(request.Policies, new PolicyOptions { Settings = request.Settings });
        var nodes = TraceLoader.LoadNodes(request.Nodes);
        var trace = TraceLoader.LoadPods(request.Pods, new DlrmOptions { NicMbps = request.NicMbps });
        // Without times every pod would arrive at 0 s and never leave: a packing reported as a timeline.
        if (request.Mode == ReplayMode.Timed && trace.Pods.All(p => p.CreationSeconds is null && p.DeletionSeconds is null))
            throw new UserInputException($"--mode timed needs pod creation and deletion times, and {request.Pods} has none (use --mode paper)");
        // The trace's own faults, warned of after the runs and kept in summary.json's traceNotes.
        var warnings = TraceNotes.Of(nodes, [.. trace.Pods.Select(p => p.Pod)], request.Pods, request.Mode);
        var notes = request.NotesFile is null ? null : InputFiles.ReadText(request.NotesFile, "--notes");
        // Loaded here, before the runs decide with them: the provenance hashes the bytes loaded.
        var modelFiles = LearnedModelOption.Load(request.Models, request.Policies);
        OutputPaths.PrepareDirectory(request.Output, "--output");
        var runner = new ReplayRunner(catalog);
        var settings = new ReplaySettings { Mode = request.Mode, Tune = request.Tune, PolicySettings = request.Settings };
        var results = new List<ReplayResult>();

        if (LiveProgress.IsDrawn)
        {
            AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(progress =>
                {
                    foreach (var policy in request.Policies)
                    {
                        foreach (var seed in request.Seeds)
                        {
                            var task = progress.AddTask($"{policy} seed {seed}", maxValue: 1.0);
                            results.Add(runner.Run(nodes, trace.Pods, policy, seed, settings, f => task.Value = f));
                            task.Value = 1.0;
                        }
                    }
                });
        }
        else
        {
            // Redirected (a log, CI): Spectre's fallback printed a snapshot now and then ("ddqn seed 42: 0%" as the last
            // word on a run that had finished), so each run says once that it is done.
            foreach (var policy in request.Policies)
            {
                foreach (var seed in request.Seeds)
                {
                    var result = runner.Run(nodes, trace.Pods, policy, seed, settings, _ => { });
                    results.Add(result);
                    LiveProgress.Step($"{policy} seed {seed}: done ({result.WallSeconds:F1} s)");
                }
            }
        }

        // Once the runs are done: a run that fails (a cluster without GPUs in paper mode) is its error line alone.
        foreach (var warning in warnings) Console.Error.WriteLine($"warning: {warning}");
        var provenance = RunProvenance.Of([("--nodes", request.Nodes), ("--pods", request.Pods), ("--notes", request.NotesFile)], request.Settings, modelFiles);
        var published = PublishedResults.TraceKey(provenance, request.Mode, request.Tune);
        var summary = new ReplaySummary
        {
            Command = request.CommandLine(),
            Provenance = provenance,
            Nodes = request.Nodes,
            Pods = request.Pods,
            TraceFormat = trace.Format,
            TraceNotes = [.. trace.Notes, .. warnings],
            Mode = request.Mode,
            Tune = request.Tune,
            Seeds = request.Seeds,
            Runs = results,
            Means = ReplaySummary.MeansOf(results, request.Policies, published),
        };
        File.WriteAllText(Path.Combine(request.Output, "summary.json"), summary.ToJson());
        File.WriteAllText(Path.Combine(request.Output, "curves.json"), JsonSerializer.Serialize(
            results.Select(r => new { r.Policy, r.Seed, r.Curve, r.Timeline }), ReplaySummary.Json));
        var plots = PlotWriter.Write(request.Output, results, request.Policies, request.Mode);
        File.WriteAllText(Path.Combine(request.Output, "report.md"), ReportWriter.Render(summary, plots, published, notes));
        LiveProgress.Done("wrote", $"{Path.Combine(request.Output, "report.md")}");
        return summary;
    }
}
