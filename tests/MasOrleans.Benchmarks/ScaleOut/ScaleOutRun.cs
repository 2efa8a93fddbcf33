using System.Globalization;

namespace MasOrleans.Benchmarks.ScaleOut;

/// <summary>Sizes of a scale-out run, from <c>scaleout [--pods N] [--clients C] [--trials T] [--nodes K]</c>.</summary>
public sealed record ScaleOutOptions(int Pods, int Clients, int Trials, int Nodes)
{
    public const string PodCpu = "100m";
    public const int NodeCpus = 64;

    public static ScaleOutOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, int> { ["--pods"] = 2000, ["--clients"] = 32, ["--trials"] = 3, ["--nodes"] = 0 };
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!values.ContainsKey(args[i]) || i + 1 >= args.Count || !int.TryParse(args[i + 1], out var value) || value < 0)
                throw new ArgumentException($"usage: scaleout [--pods N] [--clients C] [--trials T] [--nodes K]; bad argument '{args[i]}'");
            values[args[i]] = value;
        }
        // Enough 64-cpu nodes that every 100m pod fits with room to spare (at most 320 pods per node, half full).
        var nodes = Math.Max(values["--nodes"], Math.Max(50, (values["--pods"] + 319) / 320));
        return new ScaleOutOptions(values["--pods"], Math.Max(1, values["--clients"]), Math.Max(1, values["--trials"]), nodes);
    }
}

/// <summary>
/// End-to-end submissions (HTTP → scheduled) through one silo and through two, as pods per second. Trials alternate
/// the order (1 then 2, 2 then 1, ...) so a burst of load from elsewhere on the machine hits both configurations;
/// the median trial of each is reported.
/// </summary>
public static class ScaleOutRun
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var options = ScaleOutOptions.Parse(args);
        // Not a project reference: Orleans and BenchmarkDotNet need different Roslyn versions in one restore graph.
        var siloDll = ChildProcesses.BuildSilo();
        Console.WriteLine($"scale-out: {options.Pods} pods ({ScaleOutOptions.PodCpu} cpu), {options.Clients} clients, {options.Nodes} nodes, {options.Trials} trials; load average {LoadAverage()}");

        var results = new List<TrialResult>();
        for (var trial = 1; trial <= options.Trials; trial++)
        {
            int[] order = trial % 2 == 1 ? [1, 2] : [2, 1];
            foreach (var silos in order)
            {
                var result = await ScaleOutTrial.RunAsync(options, siloDll, silos, trial);
                results.Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"trial {trial}, {silos} silo(s): submitted in {result.SubmitSeconds:F2} s, all placed in {result.PlacedSeconds:F2} s = {result.PodsPerSecond:F0} pods/s ({result.Retried429} 429 retries); load average {LoadAverage()}"));
            }
        }

        var one = Median(results.Where(r => r.Silos == 1));
        var two = Median(results.Where(r => r.Silos == 2));
        Console.WriteLine();
        Console.WriteLine("| Silos | Median pods/s (placed) | Trials (pods/s) | vs 1 silo |");
        Console.WriteLine("|------:|-----------------------:|-----------------|----------:|");
        foreach (var (silos, median) in new[] { (1, one), (2, two) })
        {
            var trials = string.Join(", ", results.Where(r => r.Silos == silos).Select(r => r.PodsPerSecond.ToString("F0", CultureInfo.InvariantCulture)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {silos} | {median:F0} | {trials} | {median / one:F2}x |"));
        }
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return 0;
    }

    private static double Median(IEnumerable<TrialResult> results)
    {
        var sorted = results.Select(r => r.PodsPerSecond).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The 1/5/15-minute load averages: other engineers share these 2 cores, so each figure says what it competed with.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
