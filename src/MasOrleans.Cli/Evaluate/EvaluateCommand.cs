using MasOrleans.Scheduling;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MasOrleans.Cli.Replay;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Cli.Evaluate;

/// <summary>
/// `mas evaluate`: a baseline (fgd) against candidate policies on the paper families' traces and on resampled variants
/// of the default trace (<see cref="WorkloadVariants"/>), paper protocol, paired by seed. Prints per workload the
/// mean and spread of each policy and the candidate's gain; `--write-variants dir` writes the variants' CSVs instead.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var nodes = new Option<string>("--nodes") { Description = TraceFormats.OpenbNodes, Required = true };
        var pods = new Option<string>("--pods") { Description = $"The default trace the variants resample: {TraceFormats.OpenbPods}", Required = true };
        var traces = new Option<string[]>("--trace") { Description = "Another trace to judge on (a paper family file); repeatable", AllowMultipleArgumentsPerToken = true };
        var variants = new Option<string>("--variants") { Description = $"{WorkloadVariants.Groups}, or names separated by commas", DefaultValueFactory = _ => "all" };
        var baseline = new Option<string>("--baseline") { Description = "The policy to beat", DefaultValueFactory = _ => "fgd" };
        var policies = new Option<string[]>("--policy") { Description = "Candidate policy; repeatable", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<string[]>("--seed") { Description = "Seeds, e.g. 42..51", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["42..51"] };
        var tune = new Option<double>("--tune") { Description = "Arrivals up to this multiple of cluster GPU capacity", DefaultValueFactory = _ => 1.3 }.MustBeTune();
        var settings = new Option<string[]>("--set") { Description = "Policy setting key=value passed to every policy", AllowMultipleArgumentsPerToken = true };
        var parallel = new Option<int>("--parallel") { Description = "Runs at once", DefaultValueFactory = _ => 1 }.MustBeAtLeast(1);
        var output = new Option<string?>("--output") { Description = "Write the comparison as JSON here" };
        var writeVariants = new Option<string?>("--write-variants") { Description = "Write the selected variants as openb CSVs into this directory and exit" };
        var idle = new Option<bool>("--idle") { Description = "Print where each policy's unallocated GPU sits at the end (first seed only)" };
        var models = new Option<string[]>("--model") { Description = "Model directory for ddqn/ppo; repeatable", AllowMultipleArgumentsPerToken = true };

        var command = new Command("evaluate", "Compare policies against fgd on the paper families and on resampled variants of the default trace.")
        {
            nodes, pods, traces, variants, baseline, policies, seeds, tune, settings, parallel, output, writeVariants, models, idle,
        };
        command.SetAction(parse =>
        {
            var catalog = PolicyCatalog.CreateDefault();
            var modelsByAlgorithm = LearnedModelOption.Register(catalog, parse.GetValue(models) ?? []);
            var nodeList = TraceLoader.LoadNodes(parse.GetValue(nodes)!);
            var selected = WorkloadVariants.Select(parse.GetValue(variants)!);
            if (parse.GetValue(writeVariants) is { } dir)
            {
                WriteVariants(dir, nodeList, parse.GetValue(pods)!, selected);
                return 0;
            }
            var candidates = parse.GetValue(policies) is { Length: > 0 } given ? ReplayCommand.PoliciesOnce(catalog, given) : throw new UserArgumentException("give at least one --policy");
            var baselinePolicy = ReplayCommand.PoliciesOnce(catalog, [parse.GetValue(baseline)!])[0];
            LearnedModelOption.RefuseUnused(modelsByAlgorithm, [.. candidates, baselinePolicy]);
            // Compared with itself a policy ties on every seed: a row of zeros that reads as "no better than fgd". --idle
            // compares nothing (it prints each policy's idle GPUs once), so there the baseline may be the policy named.
            if (!parse.GetValue(idle) && candidates.Contains(baselinePolicy))
                throw new UserArgumentException($"--policy {baselinePolicy} is the --baseline: compared with itself it ties on every seed; give other candidates, or another --baseline");
            var inputs = new (string Option, string? Path)[] { ("--nodes", parse.GetValue(nodes)), ("--pods", parse.GetValue(pods)) }
                .Concat((parse.GetValue(traces) ?? []).Select(t => ("--trace", (string?)t))).ToArray();
            // Loaded before the runs decide with them: the provenance hashes the bytes loaded.
            var modelFiles = LearnedModelOption.Load(modelsByAlgorithm, [.. candidates, baselinePolicy]);
            var outputFile = parse.GetValue(output) is { } path
                ? OutputPaths.CheckFile(path, "--output", [.. inputs, .. modelFiles.Select(f => (f.Option, (string?)f.Path))])
                : null;
            var replay = new ReplaySettings
            {
                Tune = parse.GetValue(tune),
                PolicySettings = ReplayCommand.ParseSettings(parse.GetValue(settings) ?? []),
            };
            catalog.CheckSettings(candidates.Prepend(baselinePolicy), new PolicyOptions { Settings = replay.PolicySettings });
            var workloads = PolicyComparison.Build(nodeList, parse.GetValue(pods)!, parse.GetValue(traces) ?? [], selected, note => Console.Error.WriteLine($"warning: {note}"));
            // Hashed as read, before the runs: the inputs by content, as replay's summary.json has them.
            var provenance = RunProvenance.Of(inputs, replay.PolicySettings, modelFiles);
            var seedList = ReplayCommand.ParseSeeds(parse.GetValue(seeds) ?? ["42..51"]);
            if (parse.GetValue(idle))
            {
                foreach (var w in workloads)
                    foreach (var p in candidates.Prepend(baselinePolicy).Distinct())
                        Console.WriteLine($"{w.Name} {p} seed {seedList[0]}: {IdleBreakdown.Measure(catalog, nodeList, w.Pods.Select(t => t.Pod).ToList(), p, seedList[0], replay)}");
                return 0;
            }
            var comparison = new PolicyComparison(catalog, replay, parse.GetValue(parallel))
                .Compare(nodeList, workloads, baselinePolicy, candidates, seedList, Console.Error.WriteLine);
            // The traces' pods that fit no node and traces with no GPU pod, as replay warns of them (after the runs: a failed
            // run is its error alone).
            foreach (var workload in workloads)
            {
                if (workload.Source is not { } file) continue;
                foreach (var note in TraceNotes.Of(nodeList, [.. workload.Pods.Select(p => p.Pod)], file, ReplayMode.Paper)) Console.Error.WriteLine($"warning: {note}");
            }
            Console.Write(Render(comparison, seedList));
            if (outputFile is not null)
                File.WriteAllText(outputFile, ToJson(CommandLines.AsGiven(parse, "evaluate"), provenance, replay.Tune, seedList, comparison));
            return 0;
        });
        command.Excludes(writeVariants, "--write-variants writes the variants' CSVs and exits, running no comparison", policies, output, idle, models)
            .Excludes(idle, "--idle prints where the unallocated GPUs sit and exits, writing no comparison", output);
        return command.ChecksOptionValues();
    }

    /// <summary>A markdown table: per workload and candidate, both policies' mean ± spread and the paired gain.</summary>
    public static string Render(IReadOnlyList<WorkloadComparison> rows, IReadOnlyList<int> seeds)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"GPU allocation % at 130% arrived GPU demand (where arrivals end, if --tune stops them sooner), paper protocol, seeds {string.Join(',', seeds)} (mean ± sample sd)");
        text.AppendLine();
        // A tie is a seed on which both allocated the same: neither a win nor a loss, and shown so wins/losses do not hide it.
        text.AppendLine("| workload | kind | baseline | baseline alloc | candidate | candidate alloc | gain (mean) | gain (min) | wins/ties/losses |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            text.AppendLine(c, $"| {r.Workload.Name} | {r.Workload.Kind} | {r.Baseline.Policy} | {MeanAndSpread(r.Baseline)} | {r.Candidate.Policy} | {MeanAndSpread(r.Candidate)} | {r.MeanGain:+0.00;-0.00;0.00} | {r.MinGain:+0.00;-0.00;0.00} | {r.Wins}/{r.Ties}/{r.Losses} |");
        return text.ToString();
    }

    private static string MeanAndSpread(PolicyRuns runs) => runs.Spread is { } sd
        ? string.Create(CultureInfo.InvariantCulture, $"{runs.Mean:F2} ± {sd:F2}")
        : runs.Mean.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>The command as given and the run's provenance (written as summary.json's), the protocol's tune and seeds, then the rows.</summary>
    private static string ToJson(string command, RunProvenance provenance, double tune, IReadOnlyList<int> seeds, IReadOnlyList<WorkloadComparison> rows) => JsonSerializer.Serialize(new
    {
        command,
        provenance = JsonSerializer.SerializeToNode(provenance, ReplaySummary.Json),
        tune,
        seeds,
        comparisons = rows.Select(r => new
        {
            workload = r.Workload.Name,
            kind = r.Workload.Kind,
            mix = r.Workload.Mix.ToString(),
            baseline = new { r.Baseline.Policy, r.Baseline.Seeds, r.Baseline.Alloc, r.Baseline.Mean, r.Baseline.Spread },
            candidate = new { r.Candidate.Policy, r.Candidate.Seeds, r.Candidate.Alloc, r.Candidate.Mean, r.Candidate.Spread },
            gain = new { mean = r.MeanGain, min = r.MinGain, r.Wins, r.Ties, r.Losses },
        }),
    }, OutputJson.Options);

    private static void WriteVariants(string dir, IReadOnlyList<MasOrleans.Scheduling.Model.NodeSpec> nodes, string defaultTrace, IReadOnlyList<WorkloadVariant> variants)
    {
        // Build's rule: a variant that comes out as the trace or an earlier variant is left out with its warning, as a run would.
        var workloads = PolicyComparison.Build(nodes, defaultTrace, [], variants, note => Console.Error.WriteLine($"warning: {note}"));
        OutputPaths.PrepareDirectory(dir, "--write-variants");
        foreach (var variant in workloads.Skip(1))
        {
            var csv = new StringBuilder("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n");
            foreach (var p in variant.Pods.Select(t => t.Pod))
            {
                var g = p.Gpu;
                csv.Append(CultureInfo.InvariantCulture, $"{p.Name},{p.Requests.CpuMilli},{p.Requests.MemoryBytes / (1024 * 1024)},{g.Count},{g.MilliPerGpu},{PodShape.GpuModelsOf(p)}\n");
            }
            var path = Path.Combine(dir, $"openb_pod_list_{variant.Name}.csv");
            File.WriteAllText(path, csv.ToString());
            Console.WriteLine($"{path}: {variant.Mix}");
        }
    }
}
