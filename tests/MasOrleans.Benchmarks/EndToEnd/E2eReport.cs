using System.Text;
using static MasOrleans.Benchmarks.EndToEnd.E2ePass;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>The markdown tables of a run: throughput and latency, cost per pod, Redis writes by command, silo logs.</summary>
public static class E2eReport
{
    public static string Tables(IReadOnlyList<PassResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| Silos | Pass | Pods | Generator | Pods/s, first POST to last Running | vs 1 silo | Submit to bound p50 / p99 (ms) | Submit to Running p50 / p99 (ms) | POST answered p50 / p99 (ms) | Not Running |");
        text.AppendLine("|------:|------|-----:|-----------|-----------------------------------:|----------:|-------------------------------:|---------------------------------:|-----------------------------:|------------:|");
        foreach (var r in results)
        {
            var one = Baseline(results, r);
            text.AppendLine($"| {r.Silos} | {r.Pass} | {r.Pods} | {r.Load.Generator} | {Format(r.PodsPerSecond, "F0")} | {Ratio(r.PodsPerSecond, one?.PodsPerSecond)} " +
                $"| {Format(r.BoundP50Ms)} / {Format(r.BoundP99Ms)} | {Format(r.RunningP50Ms)} / {Format(r.RunningP99Ms)} " +
                $"| {Format(r.Load.PostP50Ms)} / {Format(r.Load.PostP99Ms)} | {r.NotRunning} |");
        }
        text.AppendLine();
        text.AppendLine("| Silos | Pass | Silo CPU ms per pod (all silos) | vs 1 silo | JIT ms per pod (methods compiled) | Allocated KB per pod; GC pause ms per pod | CPU ms per silo | Idle CPU ms/s per silo (settled after s) | Placements per silo (share) | Silo-to-silo messages (bytes) per pod | Redis writes per pod | Redis scripts per pod | Redis CPU ms per pod | Generator CPU (% of a core; ms per pod) |");
        text.AppendLine("|------:|------|-------------------------------:|----------:|----------------------------------:|------------------------------------------:|-----------------|-----------------------------------------|-----------------------------|------------------------------:|---------------------:|----------------------:|---------------------:|------------------------------------------|");
        foreach (var r in results)
        {
            var one = Baseline(results, r);
            var perSilo = string.Join(", ", r.SiloCpuMs.Select(ms => Format(ms, "F0")));
            var idle = string.Join(", ", r.IdleCpuMsPerSecond.Select(ms => Format(ms, "F0"))) + $" ({Format(r.SettleSeconds, "F0")})";
            var total = Math.Max(1, r.PlacementsPerSilo.Sum());
            var shares = string.Join(", ", r.PlacementsPerSilo.Select(p => $"{p} ({Format(100.0 * p / total, "F0")}%)"));
            text.AppendLine($"| {r.Silos} | {r.Pass} | {Format(r.SiloCpuMsPerPod, "F2")} | {Ratio(r.SiloCpuMsPerPod, one?.SiloCpuMsPerPod)} | {Format(r.JitMsPerPod, "F2")} ({r.JitMethods}) | {Format(r.AllocatedKbPerPod, "F1")}; {Format(r.GcPauseMsPerPod, "F3")} | {perSilo} | {idle} | {shares} " +
                $"| {Format((double)r.SiloToSiloMessages / r.Pods, "F2")} ({Format((double)r.SiloToSiloBytes / r.Pods, "F0")}) | {Format((double)r.RedisWrites / r.Pods, "F2")} | {Format((double)r.RedisScripts / r.Pods, "F2")} | {Format(r.RedisCpuMs / r.Pods, "F3")} " +
                $"| {Format(r.Load.CpuPercentOfCore)}%; {Format(r.Load.CpuMs / r.Pods, "F3")} |");
        }
        text.AppendLine();
        text.AppendLine("| Silos | Pass | Redis write commands per pod | Warning / error lines per silo (start to end of measurement) | Most frequent (words with digits masked) |");
        text.AppendLine("|------:|------|------------------------------|---------------------------------------------------|---------------|");
        foreach (var r in results)
        {
            var writes = string.Join(", ", r.WritesByCommand.Select(w => $"{w.Command} {Format((double)w.Calls / r.Pods, "F2")}"));
            var logs = string.Join(", ", r.Logs.Select(l => $"{l.Warnings} / {l.Errors}"));
            var top = r.Logs.SelectMany(l => l.Top).GroupBy(t => t.Message).Select(g => (Message: g.Key, Count: g.Sum(t => t.Count)))
                .OrderByDescending(t => t.Count).Take(3).Select(t => $"{t.Count}x `{t.Message.Replace("|", "\\|", StringComparison.Ordinal)}`").ToList();
            var topText = top.Count == 0 ? "-" : string.Join("; ", top);
            text.AppendLine($"| {r.Silos} | {r.Pass} | {writes} | {logs} | {topText} |");
        }
        if (results.Any(r => r.Pass == E2eRun.BaselinePass))
        {
            text.AppendLine();
            text.AppendLine("| Silos | Pods/s: this build / baseline build | Silo CPU ms per pod: this build / baseline build | Redis writes per pod: this build / baseline build | Silo-to-silo messages (bytes) per pod: this build / baseline build |");
            text.AppendLine("|------:|------------------------------------:|-------------------------------------------------:|--------------------------------------------------:|------------------------------------------------------------------:|");
            foreach (var b in results.Where(r => r.Pass == E2eRun.BaselinePass))
            {
                if (results.FirstOrDefault(r => r.Silos == b.Silos && r.Pass == "max") is not { } r) continue;
                text.AppendLine($"| {r.Silos} | {Format(r.PodsPerSecond, "F0")} / {Format(b.PodsPerSecond, "F0")} = {Ratio(r.PodsPerSecond, b.PodsPerSecond)} " +
                    $"| {Format(r.SiloCpuMsPerPod, "F2")} / {Format(b.SiloCpuMsPerPod, "F2")} = {Ratio(r.SiloCpuMsPerPod, b.SiloCpuMsPerPod)} " +
                    $"| {Format((double)r.RedisWrites / r.Pods, "F2")} / {Format((double)b.RedisWrites / b.Pods, "F2")} " +
                    $"| {Format((double)r.SiloToSiloMessages / r.Pods, "F2")} ({Format((double)r.SiloToSiloBytes / r.Pods, "F0")}) / {Format((double)b.SiloToSiloMessages / b.Pods, "F2")} ({Format((double)b.SiloToSiloBytes / b.Pods, "F0")}) |");
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// For several runs: per silo count and pass, the median of the runs' pods/s, CPU per pod and its ratio to one silo
    /// in the same run, with their range (on a shared machine one run's ratio moves by a factor of two).
    /// </summary>
    public static string AcrossRuns(IReadOnlyList<IReadOnlyList<PassResult>> runs)
    {
        var text = new StringBuilder();
        text.AppendLine("| Silos | Pass | Pods/s, median (range) | Silo CPU ms per pod, median (range) | vs 1 silo in the same run, median (range) | Runs |");
        text.AppendLine("|------:|------|-----------------------:|------------------------------------:|------------------------------------------:|-----:|");
        var passes = runs.SelectMany(run => run.Select(r => (r.Silos, r.Pass))).Distinct().OrderBy(p => p.Silos).ThenBy(p => p.Pass, StringComparer.Ordinal);
        foreach (var (silos, pass) in passes)
        {
            var rows = runs.SelectMany(run => run.Where(r => r.Silos == silos && r.Pass == pass)
                .Select(r => (Result: r, Ratio: Baseline(run, r) is { SiloCpuMsPerPod: > 0 } one ? r.SiloCpuMsPerPod / one.SiloCpuMsPerPod : double.NaN))).ToList();
            var ratios = rows.Select(x => x.Ratio).Where(x => !double.IsNaN(x)).ToList();
            text.AppendLine($"| {silos} | {pass} | {Spread(rows.Select(x => x.Result.PodsPerSecond).ToList(), "F0")} " +
                $"| {Spread(rows.Select(x => x.Result.SiloCpuMsPerPod).ToList(), "F2")} | {Spread(ratios, "F2", "x")} | {rows.Count} |");
        }
        return text.ToString();
    }

    /// <summary>Median (min-max) of <paramref name="values"/>.</summary>
    internal static string Spread(IReadOnlyList<double> values, string format, string unit = "")
    {
        if (values.Count == 0) return "-";
        var sorted = values.Order().ToList();
        var mid = sorted.Count / 2;
        var median = sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return $"{Format(median, format)}{unit} ({Format(sorted[0], format)}-{Format(sorted[^1], format)}{unit})";
    }

    /// <summary>The same pass with one silo in the same run: the baseline of every ratio.</summary>
    private static PassResult? Baseline(IReadOnlyList<PassResult> results, PassResult r) =>
        results.FirstOrDefault(b => b.Silos == 1 && b.Pass == r.Pass);

    private static string Ratio(double value, double? baseline) =>
        baseline is { } b && b > 0 && !double.IsNaN(value) ? $"{Format(value / b, "F2")}x" : "-";
}
