using MasOrleans.Scheduling;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MasOrleans.Cli.Replay;
using MasOrleans.Cli.Train;
using MasOrleans.Learning.Search;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Cli.Tune;

/// <summary>
/// `mas tune-ties`: learns `fgd-learned`'s tie weights by the cross-entropy method (<see cref="TieOrderSearch"/>) on the default
/// trace and the training variants at training seeds; prints each generation's best and writes the search as JSON.
/// Seeds 42..51, on which results are reported, are refused.
/// </summary>
internal static class TuneTiesCommand
{
    public static Command Create()
    {
        var nodes = new Option<string>("--nodes") { Description = TraceFormats.OpenbNodes, Required = true };
        var pods = new Option<string>("--pods") { Description = $"The default trace, the training variants resample it: {TraceFormats.OpenbPods}", Required = true };
        var variants = new Option<string>("--variants") { Description = "train, near-default, near-families, none, or names separated by commas (held-out variants are refused)", DefaultValueFactory = _ => "train" };
        var seeds = new Option<string[]>("--seed") { Description = "Training seeds, e.g. 1000..1001 (42..51 are refused)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["1000..1001"] };
        var generations = new Option<int>("--generations") { DefaultValueFactory = _ => 10 }.MustBeAtLeast(1);
        var population = new Option<int>("--population") { DefaultValueFactory = _ => 16 }.MustBeAtLeast(2);
        var elite = new Option<int>("--elite") { DefaultValueFactory = _ => 4 }.MustBeAtLeast(1);
        var spread = new Option<double>("--spread") { Description = "Initial spread of every weight", DefaultValueFactory = _ => 1.5 }.MustBePositive();
        var searchSeed = new Option<int>("--search-seed") { Description = "Seed of the search's sampling", DefaultValueFactory = _ => 1 };
        var worst = new Option<double>("--worst-weight") { Description = "Objective = mean gain + this x the worst workload's gain", DefaultValueFactory = _ => 1 }.MustBeFinite();
        var parallel = new Option<int>("--parallel") { Description = "Runs at once", DefaultValueFactory = _ => 1 }.MustBeAtLeast(1);
        var start = new Option<string[]>("--start") { Description = "Start as tie.cpu.<feature>=w / tie.gpu.<feature>=w (others as fgd-ties' hand rules), tie.cpu.cross / tie.gpu.cross (0 unless given) and w.shared / w.power / w.cpu / w.multi (fgd-weighted's tuned ones unless given); repeatable", AllowMultipleArgumentsPerToken = true };
        var typical = new Option<bool>("--typical") { Description = "Also search the typical-pod weights of FGD's score (w.shared, w.power, w.cpu, w.multi)" };
        var cross = new Option<bool>("--cross") { Description = "Also search how many FGD points a tie step may outweigh (tie.cpu.cross, tie.gpu.cross)" };
        var output = new Option<string?>("--output") { Description = "Write every generation's candidates as JSON here" };

        var command = new Command("tune-ties", "Learn fgd-learned's tie weights by the cross-entropy method on training workloads and seeds.")
        {
            nodes, pods, variants, seeds, generations, population, elite, spread, searchSeed, worst, parallel, start, typical, cross, output,
        };
        command.SetAction(parse =>
        {
            var outputFile = parse.GetValue(output) is { } path ? OutputPaths.CheckFile(path, "--output", ("--nodes", parse.GetValue(nodes)), ("--pods", parse.GetValue(pods))) : null;
            var seedList = ReplayCommand.ParseSeeds(parse.GetValue(seeds) ?? ["1000..1001"]);
            var (from, to) = TrainCommand.EvaluationSeeds;
            if (seedList.Where(s => s >= from && s <= to).Select(s => (int?)s).FirstOrDefault() is { } reported)
                throw new UserArgumentException($"seed {reported} is one of {from}..{to}, which results are reported on: train on others");
            var selected = WorkloadVariants.Select(parse.GetValue(variants)!);
            if (selected.FirstOrDefault(v => v.HeldOut) is { } held)
                throw new UserArgumentException($"variant {held.Name} is held out: it is never trained on");
            var (startTies, startTypical) = StartFrom(parse.GetValue(start) ?? []);
            var options = new TieSearchOptions
            {
                Generations = parse.GetValue(generations), Population = parse.GetValue(population), Elite = parse.GetValue(elite),
                InitialSpread = parse.GetValue(spread), Seed = parse.GetValue(searchSeed), WorstWeight = parse.GetValue(worst),
                Parallelism = parse.GetValue(parallel),
                Start = startTies, StartTypical = startTypical, SearchTypical = parse.GetValue(typical), SearchCross = parse.GetValue(cross),
            };
            options.Check();
            var nodeList = TraceLoader.LoadNodes(parse.GetValue(nodes)!);
            var workloads = PolicyComparison.Build(nodeList, parse.GetValue(pods)!, [], selected, note => Console.Error.WriteLine($"warning: {note}"));
            var catalog = PolicyCatalog.CreateDefault();
            LearnedModelOption.Register(catalog, []);
            var search = new TieOrderSearch(catalog, new ReplaySettings(), options);
            var c = CultureInfo.InvariantCulture;
            var result = search.Run(nodeList, workloads, seedList, "fgd", g =>
            {
                var best = g.Ranked[0];
                Console.WriteLine(string.Create(c, $"generation {g.Index}: best objective {best.Objective:+0.000;-0.000} (mean {best.MeanGain:+0.000;-0.000}, worst {best.WorstGain:+0.000;-0.000}), spread {g.MeanSpread:F2}: {best.Weights}{(options.SearchTypical ? $", {best.Typical}" : "")}"));
                Console.WriteLine("  " + string.Join(' ', best.Gains.Select(kv => string.Create(c, $"{kv.Key}:{kv.Value:+0.00;-0.00}"))));
            }, Console.Error.WriteLine);
            var overall = TieOrderSearch.Best(result);
            Console.WriteLine(string.Create(c, $"best: objective {overall.Objective:+0.000;-0.000}, {overall.Weights}, {overall.Typical}"));
            // Every weight: a weight left out would be fgd-learned's shipped one, not the search's.
            Console.WriteLine("settings: " + string.Join(' ', overall.Settings.Select(kv => $"--set {kv.Key}={kv.Value}")));
            if (outputFile is not null) File.WriteAllText(outputFile, ToJson(result));
            return 0;
        });
        return command.ChecksOptionValues();
    }

    private static (TieWeights, TypicalPodWeights) StartFrom(string[] pairs)
    {
        var settings = ReplayCommand.ParseSettings(pairs, "--start");
        foreach (var key in settings.Keys)
        {
            if (!TieWeights.Keys.Contains(key) && !TypicalPodWeights.Keys.Contains(key))
                throw new UserArgumentException($"--start takes tie.cpu.<feature>=w and tie.gpu.<feature>=w with a feature among {string.Join(", ", TieFeatures.Names)}, tie.cpu.cross, tie.gpu.cross, {string.Join(", ", TypicalPodWeights.Keys)}; got '{key}'");
        }
        return (TieWeights.HandRules.With(settings), TypicalPodWeights.Tuned.With(settings));
    }

    private static string ToJson(IReadOnlyList<TieGeneration> generations) => JsonSerializer.Serialize(generations.Select(g => new
    {
        generation = g.Index,
        spread = g.MeanSpread,
        candidates = g.Ranked.Select(c => new
        {
            c.Objective, meanGain = c.MeanGain, worstGain = c.WorstGain, gains = c.Gains, cpu = c.Weights.Cpu, gpu = c.Weights.Gpu,
            cpuCross = c.Weights.CpuCross, gpuCross = c.Weights.GpuCross, typical = c.Typical.ToSettings(),
        }),
    }), OutputJson.Options);
}
