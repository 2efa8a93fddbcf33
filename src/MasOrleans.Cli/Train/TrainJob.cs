using System.Text.Json;
using System.Text.Json.Serialization;
using MasOrleans.Cli.Replay;
using MasOrleans.Learning;
using MasOrleans.Learning.Placement;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;
using Spectre.Console;

namespace MasOrleans.Cli.Train;

/// <summary>Loads the trace, runs <see cref="PlacementTraining"/> under a progress bar, and writes the curve PNG.</summary>
internal static class TrainJob
{
    public static PlacementTrainingResult Run(PlacementTrainingOptions options, string nodesSource, string podsSource, string output, string command)
    {
        var nodes = TraceLoader.LoadNodes(nodesSource);
        var pods = TraceLoader.LoadPods(podsSource).Pods.Select(p => p.Pod).ToList();
        OutputPaths.PrepareDirectory(output, "--output");
        // The trace by content as replay's provenance has it (a trace edited in place keeps its name): the command alone
        // did not say which pods the model learned from.
        var trace = string.Join(" + ", RunProvenance.Of([("--nodes", nodesSource), ("--pods", podsSource)], new Dictionary<string, string>()).Inputs
            .Select(i => i.Sha256 is null ? i.Path : $"{i.Path} (sha256 {i.Sha256})"));
        var provenance = new ModelProvenance(Trace: FormattableString.Invariant($"{trace} (paper protocol, tune {options.Environment.Tune})"), Command: command);
        PlacementTrainingResult? result = null;

        if (LiveProgress.IsDrawn)
        {
            AnsiConsole.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(progress =>
                {
                    var task = progress.AddTask($"{options.Algorithm}: {(options.PretrainExpert is { } e ? $"behaviour cloning from {e}" : "starting")}", maxValue: options.Episodes + 1);
                    result = PlacementTraining.Run(nodes, pods, options, provenance, point =>
                    {
                        task.Value = point.Episode + 1;
                        task.Description = Markup.Escape(Describe(options, point));
                    });
                });
        }
        else
        {
            // A log gets every episode, once: Spectre's snapshots skipped some and ended on one before the last.
            result = PlacementTraining.Run(nodes, pods, options, provenance, point => LiveProgress.Step($"{Describe(options, point)}"));
        }

        // As replay warns of them, once training is done (a run that fails is its error alone).
        foreach (var note in TraceNotes.Of(nodes, pods, podsSource, ReplayMode.Paper)) Console.Error.WriteLine($"warning: {note}");
        // The model and the curve that describes it replace what --output held in one save, only now the run has ended.
        result!.Model.WriteTo(output, new Dictionary<string, byte[]>
        {
            [TrainingPlot.FileName] = TrainingPlot.Render(result.Curve, options.Algorithm),
            [CurveFileName] = JsonSerializer.SerializeToUtf8Bytes(result.Curve, CurveJson),
        });
        LiveProgress.Done("saved", $"{output} (best validation GPU allocation {result.BestValidationAlloc:F2}% at episode {result.BestEpisode}; {result.Elapsed.TotalSeconds:F0} s; curve {TrainingPlot.FileName})");
        return result;
    }

    public const string CurveFileName = "training-curve.json";

    private static readonly JsonSerializerOptions CurveJson = new(OutputJson.Options)
    {
        // The warm start has no training reward, allocation or exploration (NaN): null, which every JSON reader takes,
        // where a "NaN" string put text in a number's place (a strict reader, or a plot's, refused or misread it).
        Converters = { new NaNAsNullConverter() },
    };

    private static string Describe(PlacementTrainingOptions o, TrainingPoint p) =>
        $"{o.Algorithm} ep {p.Episode}/{o.Episodes} reward {Fmt(p.Reward, "F1")} alloc {Fmt(p.GpuAllocPercent, "F2")}% " +
        $"val {Fmt(p.ValidationAllocPercent ?? double.NaN, "F2")}% {p.ExplorationName} {Fmt(p.ExplorationValue, "F3")}";

    private static string Fmt(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}
