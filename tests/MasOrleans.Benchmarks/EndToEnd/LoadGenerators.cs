using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>What a load generator did: POSTs answered 202 or not, the client-side POST latency, and its own CPU.</summary>
public sealed record LoadResult(string Generator, int Accepted, int Failed, double PostP50Ms, double PostP99Ms, double CpuMs, double Seconds)
{
    public double CpuPercentOfCore => Seconds > 0 ? CpuMs / (Seconds * 10) : 0;
}

/// <summary>
/// Two ways to POST the pods. At the maximum rate: Debian's <c>wrk</c> (C, event loop; a few percent of a core), one
/// process per silo with <c>wrk-pods.lua</c> naming each pod once. At a fixed rate: wrk cannot pace (wrk2 is not in
/// Debian), so <see cref="FixedRateGenerator"/>, an open-loop generator in a child process of its own, sends pod i at
/// start + i / rate, whatever the answers do.
/// </summary>
public static class LoadGenerators
{
    public const string WrkInstallHint = "wrk is not installed: apt-get install -y wrk (Debian's package; the benchmark drives the maximum rate with it)";

    public static bool WrkInstalled() =>
        Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(dir => File.Exists(Path.Combine(dir, "wrk"))) ?? false;

    /// <summary>Pod names for silo <paramref name="silo"/> of a wrk pass: prefix + 1 .. quota.</summary>
    public static string WrkPrefix(string pass, int silo) => $"{pass}-s{silo}-";

    /// <summary>How many of <paramref name="pods"/> silo <paramref name="silo"/> of <paramref name="silos"/> gets.</summary>
    public static int Quota(int pods, int silos, int silo) => pods / silos + (silo < pods % silos ? 1 : 0);

    /// <summary>
    /// One wrk per silo with its share of the pods and of the connections; returns when all have exited. Cancelling
    /// <paramref name="stop"/> sends the ones still running SIGINT (a POST lost to a socket error is never answered, so
    /// the script's count would never complete).
    /// </summary>
    public static async Task<LoadResult> RunWrkAsync(ChildProcesses processes, IReadOnlyList<SiloProcess> silos, string pass, int pods,
        int connections, TimeSpan limit, CancellationToken stop, CancellationToken cancellation)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "EndToEnd", "wrk-pods.lua");
        var perSilo = Math.Max(1, connections / silos.Count);
        var reapedBefore = ProcCpu.ReapedChildrenMilliseconds();
        var clock = Stopwatch.StartNew();
        var runs = silos.Select(async silo =>
        {
            var quota = Quota(pods, silos.Count, silo.Index);
            var wrk = processes.StartTool("wrk", ["-t1", $"-c{Math.Min(perSilo, quota)}", $"-d{(int)limit.TotalSeconds}s", "--timeout", "30s",
                "-s", script, silo.BaseAddress.ToString(), "--", WrkPrefix(pass, silo.Index), $"{quota}", E2eOptions.PodCpu, E2eOptions.PodMemory]);
            using var stopping = stop.Register(() => ChildProcesses.Interrupt(wrk));
            var errors = wrk.StandardError.ReadToEndAsync(cancellation);
            var text = new StringBuilder();
            while (await wrk.StandardOutput.ReadLineAsync(cancellation) is { } line)
            {
                text.AppendLine(line);
                // Every POST answered: wrk's main thread would sleep out -d before printing; SIGINT wakes it.
                if (line == "quota-done") ChildProcesses.Interrupt(wrk);
            }
            await wrk.WaitForExitAsync(cancellation);
            var summary = text.ToString().Split('\n').LastOrDefault(l => l.StartsWith('{'))
                ?? throw new InvalidOperationException($"wrk for silo {silo.Index} printed no summary (exit {wrk.ExitCode}):\n{text}\n{await errors}");
            return JsonSerializer.Deserialize<WrkSummary>(summary, JsonSerializerOptions.Web)!;
        }).ToList();
        var summaries = await Task.WhenAll(runs);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = ProcCpu.ReapedChildrenMilliseconds() - reapedBefore;
        var socketErrors = summaries.Sum(s => s.SocketErrors);
        if (socketErrors > 0) Console.WriteLine($"  wrk: {socketErrors} socket errors (connect/read/write/timeout)");
        if (summaries.Any(s => s.Failed > 0))
            Console.WriteLine($"  wrk: POSTs answered other than 202, first statuses: {string.Join(' ', summaries.Select(s => s.FailedStatuses.Trim()))}");
        // Per-silo percentiles cannot be merged exactly; the worst silo's is reported.
        return new LoadResult("wrk", summaries.Sum(s => s.Accepted), summaries.Sum(s => s.Failed),
            summaries.Max(s => s.LatencyP50Us) / 1000.0, summaries.Max(s => s.LatencyP99Us) / 1000.0, cpu, seconds);
    }

    /// <summary>The pod every pass POSTs, named <paramref name="name"/> (wrk-pods.lua builds the same body).</summary>
    public static string PodJson(string name) =>
        $$$"""{"name":"{{{name}}}","requests":{"cpu":"{{{E2eOptions.PodCpu}}}","memory":"{{{E2eOptions.PodMemory}}}"}}""";

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    private sealed record WrkSummary(int Accepted, int Failed, string FailedStatuses, long Requests, long DurationUs, long SocketErrors, long LatencyP50Us, long LatencyP99Us);
}
