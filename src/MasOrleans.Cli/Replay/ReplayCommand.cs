using MasOrleans.Scheduling;
using System.CommandLine;
using System.Globalization;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Cli.Replay;

/// <summary>`mas replay`: runs a trace through policies and seeds, writes summary.json, curves.json, report.md and plots.</summary>
internal static class ReplayCommand
{
    /// <summary>
    /// Each policy once, named as registered: a policy given twice is run once, as a seed given twice is, and the catalog
    /// reads names in any case, so "FGD" is fgd given again. An unknown name stays as given, for the run to refuse.
    /// </summary>
    public static string[] PoliciesOnce(PolicyCatalog catalog, IEnumerable<string> names) =>
        [.. names.Select(p => catalog.Canonical(p) ?? p).Distinct(StringComparer.Ordinal)];

    public static Command Create()
    {
        var nodes = new Option<string>("--nodes") { Description = $"{TraceFormats.OpenbNodes}, or a generator spec, e.g. gen:count=64,cpu=96,memory=512Gi,gpu=8,network=100000,disk=2000Gi,model=A10 (required unless --list-policies)" };
        var pods = new Option<string>("--pods") { Description = $"Pod trace: {TraceFormats.OpenbPods}; or Alibaba DLRM (cluster-trace-gpu-v2025) (required unless --list-policies)" };
        var policies = new Option<string[]>("--policy") { Description = "Policy name; repeat for several (see --list-policies)", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<string[]>("--seed") { Description = $"Seed, repeatable; a range like 42..51 is expanded (at most {MaxSeeds} seeds)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["42"] };
        var tune = new Option<double>("--tune") { Description = "Paper mode: arrivals stop at this multiple of cluster GPU capacity", DefaultValueFactory = _ => 1.3 }.MustBeTune();
        var mode = new Option<string>("--mode") { Description = "paper (the FGD paper's protocol) or timed (trace timestamps, departures, waiting queue)", DefaultValueFactory = _ => "paper" };
        mode.AcceptOnlyFromAmong("paper", "timed");
        var output = new Option<string>("--output") { Description = "Directory for summary.json, curves.json, report.md and PNG plots (required unless --list-policies)" };
        // Network is stored in milli-Mbps; a faster NIC overflowed a long once a request was scaled to it.
        var nic = new Option<long>("--nic-mbps") { Description = "DLRM: bandwidth of the RDMA NIC rdma_request is a percentage of", DefaultValueFactory = _ => 100_000 }
            .Must(v => v is > 0 and <= MaxNicMbps, $"from 1 to {MaxNicMbps} Mbps");
        var settings = new Option<string[]>("--set") { Description = "Policy setting key=value passed to every policy (e.g. gpusel=worst)", AllowMultipleArgumentsPerToken = true };
        var notes = new Option<string?>("--notes") { Description = "Markdown file whose text is added to report.md (analysis, explanations)" };
        var list = new Option<bool>("--list-policies") { Description = "List the registered policies and exit" };
        var models = new Option<string[]>("--model") { Description = "Model directory for a learned policy (ddqn/ppo, read from its metadata.json); repeatable. Default: the shipped models/ddqn, models/ppo", AllowMultipleArgumentsPerToken = true };

        var command = new Command("replay", "Replay a cluster trace through scheduling policies and compare them.")
        {
            nodes, pods, policies, seeds, tune, mode, output, nic, settings, notes, list, models,
        };
        // Required for a run, not for --list-policies: marked Required, they were refused before --list-policies was read.
        command.Validators.Add(result =>
        {
            if (result.GetValue(list)) return;
            foreach (var option in new Option[] { nodes, pods, output })
                if (result.GetResult(option) is null) result.AddError($"Option '{option.Name}' is required.");
        });
        // --tune is the paper protocol's: a timed replay follows the trace's own times, and ignored it.
        command.Validators.Add(result =>
        {
            if (result.GetResult(tune) is { Implicit: false } && result.GetValue(mode) == "timed")
                result.AddError("--tune applies to --mode paper only: a timed replay follows the trace's creation and deletion times.");
        });
        command.SetAction(parse =>
        {
            var catalog = PolicyCatalog.CreateDefault();
            var modelDirectories = parse.GetValue(models) ?? [];
            var modelsByAlgorithm = LearnedModelOption.Register(catalog, modelDirectories);
            if (parse.GetValue(list))
            {
                // The name column is as wide as the longest name, so every description starts in one column.
                var width = catalog.Policies.Max(p => p.Name.Length);
                foreach (var p in catalog.Policies) Console.WriteLine($"{p.Name.PadRight(width)} {p.Description}");
                return 0;
            }
            var request = new ReplayRequest
            {
                Nodes = parse.GetValue(nodes)!,
                Pods = parse.GetValue(pods)!,
                Policies = parse.GetValue(policies) is { Length: > 0 } given
                    ? PoliciesOnce(catalog, given)
                    : throw new UserArgumentException("give at least one --policy (see --list-policies)"),
                Seeds = ParseSeeds(parse.GetValue(seeds) ?? ["42"]),
                Tune = parse.GetValue(tune),
                Mode = parse.GetValue(mode) == "timed" ? ReplayMode.Timed : ReplayMode.Paper,
                Output = parse.GetValue(output)!,
                NicMbps = parse.GetValue(nic),
                Settings = ParseSettings(parse.GetValue(settings) ?? []),
                NotesFile = parse.GetValue(notes),
                Models = modelsByAlgorithm,
            };
            LearnedModelOption.RefuseUnused(modelsByAlgorithm, request.Policies);
            ReplayJob.Run(request, catalog);
            return 0;
        });
        return command.ChecksOptionValues();
    }

    /// <summary>The largest --nic-mbps: a whole NIC's bandwidth must be a storable mas.io/network quantity.</summary>
    public const long MaxNicMbps = Quantity.MaxStored / 1000;

    /// <summary>
    /// At most this many seeds in one run: every seed is a whole replay (the paper uses 10), and the list is expanded
    /// before the first one runs, so 1..2000000000 filled memory instead of starting.
    /// </summary>
    public const int MaxSeeds = 10_000;

    /// <summary>"42", "42..51" or "42,43" (repeatable); at least one seed, at most <see cref="MaxSeeds"/>.</summary>
    public static IReadOnlyList<int> ParseSeeds(IEnumerable<string> values)
    {
        var seeds = new HashSet<int>();
        var ordered = new List<int>();
        foreach (var part in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var range = part.Split("..");
            if (range.Length == 2 && int.TryParse(range[0], CultureInfo.InvariantCulture, out var from) && int.TryParse(range[1], CultureInfo.InvariantCulture, out var to))
            {
                if (from > to) throw new FormatException($"--seed '{part}' counts down; write {to}..{from}");
                if ((long)to - from + 1 > MaxSeeds) throw new FormatException($"--seed '{part}' is {(long)to - from + 1} seeds; at most {MaxSeeds} in one run");
                ordered.AddRange(Enumerable.Range(from, to - from + 1).Where(seeds.Add));
            }
            else if (int.TryParse(part, CultureInfo.InvariantCulture, out var seed))
            {
                if (seeds.Add(seed)) ordered.Add(seed);
            }
            else throw new FormatException($"--seed '{part}' is not an integer or a range like 42..51");
            if (ordered.Count > MaxSeeds) throw new FormatException($"--seed gives more than {MaxSeeds} seeds; at most {MaxSeeds} in one run");
        }
        return ordered.Count > 0 ? ordered : throw new FormatException("give at least one --seed");
    }

    /// <summary>--set key=value (repeatable; tune-ties' --start alike, named by <paramref name="option"/>); a key given twice is an error.</summary>
    public static Dictionary<string, string> ParseSettings(IEnumerable<string> values, string option = "--set")
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in values)
        {
            var kv = pair.Split('=', 2);
            if (kv.Length != 2 || kv[0].Length == 0) throw new FormatException($"{option} '{pair}' is not key=value");
            if (!settings.TryAdd(kv[0], kv[1]))
                throw new FormatException($"{option} '{kv[0]}' is given twice ({kv[0]}={settings[kv[0]]}, {pair}); give each setting once");
        }
        return settings;
    }
}
