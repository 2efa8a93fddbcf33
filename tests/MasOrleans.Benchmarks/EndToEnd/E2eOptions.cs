using System.Globalization;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// Sizes of an end-to-end run, from
/// <c>e2e [--silos 1,2,3] [--pods N] [--nodes K] [--connections C] [--warmup W] [--half-rate on|off] [--half-pods H] [--runs R] [--out file.md] [--timeout-minutes M] [--baseline silo.dll] [--timings dir] [--log-level Warning] [--per-silo-rate R[,R2...]] [--per-silo-pods P] [--silo-env NAME=value]</c>.
/// With --baseline, each silo count first runs the maximum-rate pass on that build (another commit's silo), and each
/// half-rate pass follows one of that build at the same rate, so every figure has a same-run baseline on this shared machine.
/// </summary>
public sealed record E2eOptions(
    IReadOnlyList<int> Silos,
    int Pods,
    int Nodes,
    int Connections,
    int Warmup,
    bool HalfRate,
    int HalfPods,
    int Runs,
    string? Output,
    TimeSpan Timeout,
    string? Baseline = null,
    string? TimingsDirectory = null,
    string LogLevel = "Warning",
    IReadOnlyList<int>? PerSiloRates = null,
    int PerSiloPods = 0,
    IReadOnlyList<KeyValuePair<string, string>>? SiloEnv = null)
{
    public const string Usage =
        "usage: e2e [--silos 1,2,3] [--pods 4000] [--nodes 10] [--connections 32] [--warmup 5000] [--half-rate on|off] [--half-pods pods/2] [--runs 1] [--out file.md] [--timeout-minutes 40] [--baseline other/MasOrleans.Silo.dll] [--timings dir] [--log-level Trace|Debug|Information|Warning] [--per-silo-rate pods/s[,pods/s...]] [--per-silo-pods half-pods] [--silo-env NAME=value]...";

    /// <summary>
    /// The extra environment of every silo of a pass with <paramref name="silos"/> silos: the <c>--silo-env</c> pairs, where
    /// <c>{cores/N}</c> in a value is this machine's cores divided by the silo count, rounded up (for runtime knobs such as
    /// <c>DOTNET_PROCESSOR_COUNT</c>, which a CPU limit of that share would give each silo).
    /// </summary>
    public IReadOnlyDictionary<string, string> SiloEnvironment(int silos) =>
        (SiloEnv ?? []).ToDictionary(p => p.Key, p => p.Value.Replace("{cores/N}", $"{(Environment.ProcessorCount + silos - 1) / silos}", StringComparison.Ordinal));

    /// <summary>Every benchmark pod asks for this; nodes are sized so all of them fit with a third to spare.</summary>
    public const string PodCpu = "100m";
    public const string PodMemory = "128Mi";

    /// <summary>
    /// Warm-up pods of a pass: <see cref="Warmup"/> per silo, so every silo has placed as many pods as a lone silo
    /// before the clock starts (with one count for the cluster, each of three silos was still JIT-compiling its hot
    /// path in the measured window: measured with perf, docs/benchmarks.md session 12).
    /// </summary>
    public int WarmupPods(int silos) => Warmup * silos;

    /// <summary>
    /// Pods of one top-up round per silo: after the warm-up has settled, rounds of this size at the maximum rate (wrk, as
    /// the measured pass) until a round leaves the silos' JIT all but idle (see <see cref="E2ePass"/>).
    /// </summary>
    public int TopUpPods(int silos) => Math.Max(1, Warmup / 5) * silos;

    /// <summary>At most this many top-up rounds, so a silo that never stops compiling still gets measured.</summary>
    public const int MaxTopUps = 6;

    /// <summary>Every warm-up pod a pass may place before its measurement (they stay on the nodes).</summary>
    public int MaxWarmupPods(int silos) => Warmup == 0 ? 0 : WarmupPods(silos) + MaxTopUps * TopUpPods(silos);

    /// <summary>
    /// Node capacity in whole cpus for a pass with <paramref name="silos"/> silos: the largest measured pass the options
    /// make with that many silos and its warm-up, at 100m a pod, plus a third, spread over the nodes (so the passes of
    /// one silo count run on the same nodes; with --per-silo-rate its pods count too, so all nodes are larger then).
    /// </summary>
    public int NodeCpus(int silos) => (int)Math.Ceiling((MaxMeasuredPods(silos) + MaxWarmupPods(silos)) * 0.1 * 4 / 3 / Nodes) + 1;

    /// <summary>Node memory in Mi, by the same rule.</summary>
    public long NodeMemoryMi(int silos) => (long)Math.Ceiling((MaxMeasuredPods(silos) + MaxWarmupPods(silos)) * 128.0 * 4 / 3 / Nodes) + 1024;

    /// <summary>
    /// Pods of the equal-load pass with <paramref name="silos"/> silos: <see cref="PerSiloPods"/> per silo at
    /// one of <see cref="PerSiloRates"/> per silo, so the pass lasts as long whatever the silo count.
    /// </summary>
    public int PerSiloPassPods(int silos) => PerSiloPods * silos;

    /// <summary>The name of an equal-load pass: the same for every silo count, so its ratio is against one silo at that load.</summary>
    public static string PerSiloPass(int rate) => $"{rate}-per-silo";

    private int MaxMeasuredPods(int silos) => Math.Max(Math.Max(Pods, HalfPods), PerSiloRates is null ? 0 : PerSiloPassPods(silos));

    private static readonly string[] LogLevels = ["Trace", "Debug", "Information", "Warning"];

    public static E2eOptions Parse(IReadOnlyList<string> args)
    {
        var options = new E2eOptions([1, 2, 3], 4000, 10, 32, 5000, true, 0, 1, null, TimeSpan.FromMinutes(40));
        for (var i = 0; i < args.Count; i += 2)
        {
            if (i + 1 >= args.Count) throw new ArgumentException($"{Usage}\nmissing value after '{args[i]}'");
            var value = args[i + 1];
            options = args[i] switch
            {
                "--silos" => options with { Silos = value.Split(',').Select(s => Positive(args[i], s)).ToList() },
                "--pods" => options with { Pods = Positive(args[i], value) },
                "--nodes" => options with { Nodes = Positive(args[i], value) },
                "--connections" => options with { Connections = Positive(args[i], value) },
                "--warmup" => options with { Warmup = NonNegative(args[i], value) },
                "--half-rate" => options with { HalfRate = value switch { "on" => true, "off" => false, _ => throw Bad(args[i], value) } },
                "--half-pods" => options with { HalfPods = Positive(args[i], value) },
                "--runs" => options with { Runs = Positive(args[i], value) },
                "--out" => options with { Output = value },
                "--baseline" => options with { Baseline = File.Exists(value) ? Path.GetFullPath(value) : throw Bad(args[i], value) },
                "--timings" => options with { TimingsDirectory = Path.GetFullPath(value) },
                // The silos' default log level: Warning, so the benchmark counts what went wrong; Information is what a
                // silo started as shipped (scripts/start.sh, appsettings.json) logs. Not above Warning: the report counts
                // warnings. Orleans' own categories stay at appsettings.json's Warning.
                "--log-level" => options with { LogLevel = LogLevels.FirstOrDefault(l => l.Equals(value, StringComparison.OrdinalIgnoreCase)) ?? throw Bad(args[i], value) },
                // A pass at this many pods/s per silo (N times it with N silos): each silo carries the load one silo
                // carries alone, as on N machines, so CPU per pod against one silo's is the cost of scaling out and not of
                // N silos sharing this machine's cores below their saturation (docs/benchmarks.md, session 22).
                "--per-silo-rate" => options with { PerSiloRates = [.. value.Split(',').Select(r => Positive(args[i], r)).Distinct()] },
                "--per-silo-pods" => options with { PerSiloPods = Positive(args[i], value) },
                "--silo-env" => value.Split('=', 2) is [var name, var setting] && name.Length > 0 && !(options.SiloEnv ?? []).Any(p => p.Key == name)
                    ? options with { SiloEnv = [.. options.SiloEnv ?? [], new(name, setting)] }
                    : throw Bad(args[i], value),
                "--timeout-minutes" => options with { Timeout = TimeSpan.FromMinutes(Positive(args[i], value)) },
                _ => throw new ArgumentException($"{Usage}\nunknown option '{args[i]}'"),
            };
        }
        if (options.Silos.Any(n => n > 8)) throw new ArgumentException("at most 8 silos on one machine");
        // Half the pods at half the rate: the half-rate pass takes as long as the maximum-rate one.
        if (options.PerSiloPods > 0 && options.PerSiloRates is null) throw new ArgumentException($"{Usage}\n--per-silo-pods needs --per-silo-rate");
        if (options.HalfPods == 0) options = options with { HalfPods = Math.Max(1, options.Pods / 2) };
        return options.PerSiloPods > 0 ? options : options with { PerSiloPods = options.HalfPods };
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw Bad(name, value);

    private static int NonNegative(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Bad(name, value);

    private static ArgumentException Bad(string name, string value) => new($"{Usage}\nbad value '{value}' for {name}");
}
