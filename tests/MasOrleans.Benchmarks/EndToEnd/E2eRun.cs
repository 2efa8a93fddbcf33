using System.Diagnostics;
using System.Globalization;
using System.Text;
using static MasOrleans.Benchmarks.EndToEnd.E2ePass;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// The end-to-end benchmark: one redis-server for the whole run, and for each silo count a pass at the maximum rate
/// (wrk) and, unless switched off, a pass at half of the rate that pass reached (own open-loop generator), each on a
/// flushed Redis and fresh silos. Prints the tables and writes them to a markdown file.
/// dotnet run -c Release --project tests/MasOrleans.Benchmarks -- e2e --silos 1,2,3 --pods 4000 --nodes 10
/// </summary>
public static class E2eRun
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        E2eOptions options;
        try
        {
            options = E2eOptions.Parse(args);
        }
        catch (ArgumentException bad)
        {
            Console.Error.WriteLine($"e2e: {bad.Message}");
            return 2;
        }
        if (!LoadGenerators.WrkInstalled())
        {
            Console.Error.WriteLine(LoadGenerators.WrkInstallHint);
            return 2;
        }
        var started = DateTime.UtcNow;
        var work = Path.Combine(Path.GetTempPath(), $"mas-e2e-{started:yyyyMMdd-HHmmss}");
        var output = options.Output ?? Path.Combine(ChildProcesses.RepositoryRoot(), "BenchmarkDotNet.Artifacts", "e2e", $"e2e-{started:yyyyMMdd-HHmmss}.md");
        using var timeout = new CancellationTokenSource(options.Timeout);
        using var processes = new ChildProcesses(work);
        var siloDll = processes.BuildSilo(options.Timeout);
        ProcCpu.ReapedChildrenMilliseconds(); // reads CLK_TCK now, so its getconf is not reaped inside a measured window

        var header = Header(options, args, siloDll, work);
        Console.Write(header);
        var (redisProcess, redisPort) = processes.StartRedis();
        var report = new StringBuilder(header);
        var runs = new List<IReadOnlyList<PassResult>>();
        try
        {
            for (var run = 1; run <= options.Runs; run++)
            {
                var results = new List<PassResult>();
                runs.Add(results);
                foreach (var silos in options.Silos)
                {
                    if (options.Baseline is { } baseline)
                        results.Add(await RunPassAsync(options, processes, baseline, (redisProcess.Id, redisPort), silos, BaselinePass, options.Pods, null, timeout.Token));
                    var max = await RunPassAsync(options, processes, siloDll, (redisProcess.Id, redisPort), silos, "max", options.Pods, null, timeout.Token);
                    results.Add(max);
                    if (options.HalfRate)
                    {
                        var half = Math.Max(1, Math.Round(max.PodsPerSecond / 2));
                        // At this build's half rate, so a tail can be compared within the run (session 34).
                        if (options.Baseline is { } baselineHalf)
                            results.Add(await RunPassAsync(options, processes, baselineHalf, (redisProcess.Id, redisPort), silos, BaselineHalfPass, options.HalfPods, half, timeout.Token));
                        results.Add(await RunPassAsync(options, processes, siloDll, (redisProcess.Id, redisPort), silos, "half", options.HalfPods, half, timeout.Token));
                    }
                    foreach (var perSilo in options.PerSiloRates ?? [])
                        results.Add(await RunPassAsync(options, processes, siloDll, (redisProcess.Id, redisPort), silos, E2eOptions.PerSiloPass(perSilo), options.PerSiloPassPods(silos), perSilo * silos, timeout.Token));
                }
                var tables = $"\n### Run {run} of {options.Runs} (load average at its end {LoadAverage()})\n\n{E2eReport.Tables(results)}";
                Console.Write(tables);
                report.Append(tables);
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
                File.WriteAllText(output, report.ToString());
            }
            if (options.Runs > 1)
            {
                var across = $"\n### Across the {options.Runs} runs\n\n{E2eReport.AcrossRuns(runs)}";
                Console.Write(across);
                report.Append(across);
                File.WriteAllText(output, report.ToString());
            }
            Console.WriteLine($"\nwritten to {output}; silo logs in {work}");
            return 0;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Console.Error.WriteLine($"e2e: stopped after the {options.Timeout.TotalMinutes:F0}-minute limit (--timeout-minutes); logs in {work}");
            return 1;
        }
        finally
        {
            // Redis first and by SIGTERM (it writes its append-only file); StopAll would SIGKILL it with the rest.
            processes.Terminate(redisProcess);
            processes.StopAll();
        }
    }

    public const string BaselinePass = "baseline-max";

    public const string BaselineHalfPass = "baseline-half";

    private static async Task<PassResult> RunPassAsync(E2eOptions options, ChildProcesses processes, string siloDll, (int, int) redis,
        int silos, string pass, int pods, double? rate, CancellationToken cancellation)
    {
        Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {silos} silo(s), {pass} rate{(rate is { } r ? $" ({r:F0} pods/s)" : "")}: load average {LoadAverage()}");
        var result = await E2ePass.RunAsync(options, processes, siloDll, redis, silos, pass, pods, rate, cancellation);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {result.PodsPerSecond:F0} pods/s; bound p50/p99 {Format(result.BoundP50Ms)}/{Format(result.BoundP99Ms)} ms; " +
            $"silo CPU {result.SiloCpuMsPerPod:F2} ms/pod, of it JIT {result.JitMsPerPod:F2} ({result.JitMethods} methods compiled), allocated {result.AllocatedKbPerPod:F1} KB/pod, GC pauses {result.GcPauseMsPerPod:F3} ms/pod (settled {result.SettleSeconds:F0} s after the warm-up); Redis {(double)result.RedisWrites / result.Pods:F2} writes/pod; {(double)result.SiloToSiloMessages / result.Pods:F2} silo-to-silo messages/pod ({(double)result.SiloToSiloBytes / result.Pods:F0} bytes); " +
            $"placements {string.Join("/", result.PlacementsPerSilo)}; {result.Load.Generator} {result.Load.CpuPercentOfCore:F1}% of a core; " +
            $"warnings {string.Join("/", result.Logs.Select(l => l.Warnings))}"));
        return result;
    }

    private static string Header(E2eOptions options, IReadOnlyList<string> args, string siloDll, string work)
    {
        var delays = string.Join(", ", SiloCluster.ZeroDelays.Select(d => $"{d.Key}={d.Value}"));
        return $"""
            ## End-to-end run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit {Commit()}

            Command: `dotnet run -c Release --project tests/MasOrleans.Benchmarks -- e2e {string.Join(' ', args)}`
            Pods of {E2eOptions.PodCpu} cpu / {E2eOptions.PodMemory}: {options.Pods} at the maximum rate (wrk, {options.Connections} connections in all), {options.HalfPods} at half of the rate that pass reached
            (own open-loop generator){(options.PerSiloRates is { } perSiloRates ? $", {options.PerSiloPods} per silo at {string.Join(", ", perSiloRates)} pods/s per silo (passes \"<rate>-per-silo\", own generator)" : "")}, each pass on flushed Redis and fresh silos after a warm-up of {options.Warmup} pods per silo (which stay on the nodes), measured once every silo has settled (under 250 ms CPU per second, at most 60 s); {options.Nodes} nodes sized per pass ({string.Join(", ", options.Silos.Select(n => $"{n} silo(s): {options.NodeCpus(n)} cpu / {options.NodeMemoryMi(n)}Mi"))}).
            Simulated image pull and container start delays are ZERO ({delays}). The silos log at {options.LogLevel} and above.{(options.SiloEnv is { Count: > 0 } ? $" Added to every silo's environment: {string.Join("; ", options.Silos.Select(n => $"with {n} silo(s) " + string.Join(" ", options.SiloEnvironment(n).Select(p => $"{p.Key}={p.Value}"))))}." : "")}
            All silos, Redis and the generator share this machine's {Environment.ProcessorCount} cores; load average at the start {LoadAverage()}.
            Silo: {siloDll}; logs and Redis data: {work}
            {(options.Baseline is { } b ? $"Baseline silo (the passes \"{BaselinePass}\" and \"{BaselineHalfPass}\", run just before each maximum-rate and half-rate pass, the latter at this build's half rate): {b}" : "")}

            """;
    }

    private static string Commit()
    {
        try
        {
            var info = new ProcessStartInfo("git", "rev-parse --short HEAD") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = ChildProcesses.RepositoryRoot() };
            using var git = Process.Start(info)!;
            var commit = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no git)";
        }
    }

    /// <summary>The 1/5/15-minute load averages: other engineers share these cores, so each figure says what it competed with.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
