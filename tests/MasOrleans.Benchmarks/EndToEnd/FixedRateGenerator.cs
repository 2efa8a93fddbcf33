using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// The fixed-rate (open-loop) generator: pod i, named prefix + i, goes to silo i mod N at start + i / rate, whatever the
/// answers do. Each silo gets in-flight / N keep-alive connections (<see cref="RawHttpConnection"/>), so at most that
/// many POSTs wait for an answer at once and a pod due meanwhile waits for a free connection.
/// It runs in a child process of its own (this assembly's <c>e2e-load</c> verb), as wrk does at the maximum rate, so
/// its CPU is its own and not the harness's polling, and the runtime settings that keep it cheap stay off the
/// harness: no tiered compilation (primed before the clock starts, so nothing is compiled while it sends) and
/// workstation GC; the sending is one thread's loop (<see cref="FixedRateSchedule"/>). In-process with HttpClient it cost
/// 14-31% of a core at half rate, with tier-1 compiles during the pass and spinning among the causes
/// (docs/benchmarks.md, sessions 19 and 20).
/// </summary>
public sealed class FixedRateGenerator : IDisposable
{
    public const string Verb = "e2e-load";

    private static readonly Dictionary<string, string> Runtime = new()
    {
        ["DOTNET_TieredCompilation"] = "0",
        ["DOTNET_gcServer"] = "0",
    };

    private readonly ChildProcesses _processes;
    private readonly Process _process;
    private readonly string _rate;

    private FixedRateGenerator(ChildProcesses processes, Process process, double rate)
    {
        _processes = processes;
        _process = process;
        _rate = rate.ToString("F0", CultureInfo.InvariantCulture);
    }

    /// <summary>Starts the child and waits until it is connected and primed; nothing is sent before <see cref="RunAsync"/>.</summary>
    public static async Task<FixedRateGenerator> StartAsync(ChildProcesses processes, IReadOnlyList<Uri> silos, string prefix, int pods,
        double rate, int maxInFlight, CancellationToken cancellation)
    {
        var dll = typeof(FixedRateGenerator).Assembly.Location;
        string[] arguments = [dll, Verb, "--prefix", prefix, "--pods", $"{pods}", "--rate", rate.ToString("R", CultureInfo.InvariantCulture),
            "--in-flight", $"{maxInFlight}", .. silos.SelectMany(s => new[] { "--silo", s.ToString() })];
        var process = processes.StartTool("dotnet", arguments, Runtime);
        var generator = new FixedRateGenerator(processes, process, rate);
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(cancellation);
            if (line != "ready") throw generator.Failed($"printed '{line}' instead of 'ready'");
            return generator;
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>Sends every pod on schedule and returns what the child measured.</summary>
    public async Task<LoadResult> RunAsync(CancellationToken cancellation)
    {
        await _process.StandardInput.WriteLineAsync("go");
        await _process.StandardInput.FlushAsync(cancellation);
        var line = await _process.StandardOutput.ReadLineAsync(cancellation);
        await _process.WaitForExitAsync(cancellation);
        if (_process.ExitCode != 0 || line is null || !line.StartsWith('{')) throw Failed($"exited {_process.ExitCode} after printing '{line}'");
        var summary = JsonSerializer.Deserialize<Summary>(line, SummaryJson)!;
        if (summary.Unanswered > 0) Console.WriteLine($"  own generator: {summary.Unanswered} POSTs got no answer within {Lane.RequestTimeout.TotalSeconds:F0} s or lost their connection");
        return new LoadResult($"own {_rate}/s", summary.Accepted, summary.Failed, summary.PostP50Ms, summary.PostP99Ms, summary.CpuMs, summary.Seconds);
    }

    private InvalidOperationException Failed(string what)
    {
        // Its output can end a moment before its exit is seen.
        var errors = _process.WaitForExit(5_000) ? _process.StandardError.ReadToEnd() : "";
        return new InvalidOperationException($"the fixed-rate generator {what}\n{errors}");
    }

    public void Dispose() => _processes.Kill(_process);

    /// <summary>The percentiles are NaN when no POST was answered.</summary>
    private static readonly JsonSerializerOptions SummaryJson = new(JsonSerializerOptions.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <param name="Unanswered">POSTs that got no answer (timeout, connection error); also counted in Failed.</param>
    private sealed record Summary(int Accepted, int Failed, int Unanswered, double PostP50Ms, double PostP99Ms, double CpuMs, double Seconds);

    /// <summary>The child's side: connect, prime, say "ready", wait for "go" on stdin, send, print the summary as JSON.</summary>
    public static int RunChild(IReadOnlyList<string> args)
    {
        var silos = new List<Uri>();
        string prefix = "";
        int pods = 0, maxInFlight = 0;
        double rate = 0;
        for (var i = 0; i + 1 < args.Count; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--silo": silos.Add(new Uri(value)); break;
                case "--prefix": prefix = value; break;
                case "--pods": pods = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--rate": rate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--in-flight": maxInFlight = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (silos.Count == 0 || pods <= 0 || rate <= 0 || maxInFlight <= 0) throw new ArgumentException("needs --silo, --pods, --rate and --in-flight");

        var perSilo = Math.Max(1, maxInFlight / silos.Count);
        var lanes = silos.SelectMany((silo, s) => Enumerable.Range(0, perSilo).Select(_ => new Lane(s, silo))).ToList();
        try
        {
            // Primes the loop (compiled once, fully: no tiering) without creating a pod: no route matches, so the silo
            // answers 404 without touching a grain (as wrk-pods.lua's filler does). A chunked answer, which the filler
            // does not get, is parsed once here for the same reason.
            foreach (var lane in lanes) lane.Open();
            var filler = silos.Select(silo => RawHttpConnection.Get(silo, "/e2e-filler")).ToArray();
            var primed = new FixedRateSchedule(Enumerable.Range(0, lanes.Count).Select(i => filler[i % silos.Count]).ToArray(), silos.Count, 10_000);
            primed.Run(lanes);
            if (primed.Statuses.Keys.Any(status => status != (int)System.Net.HttpStatusCode.NotFound))
                throw new IOException($"the priming requests were answered {string.Join(", ", primed.Statuses.Select(s => $"{s.Key} x{s.Value}"))} instead of 404 (0: no answer)");
            _ = RawHttpConnection.ParseAnswer("HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"u8);
            // The bodies are built before the clock, so the measured loop only sends and reads.
            var requests = Enumerable.Range(0, pods)
                .Select(i => RawHttpConnection.Post(silos[i % silos.Count], "/api/v1/pods", LoadGenerators.PodJson($"{prefix}{i}"))).ToArray();
            Console.WriteLine("ready");
            if (Console.ReadLine() != "go") return 2;

            var cpuBefore = Environment.CpuUsage.TotalTime;
            var schedule = new FixedRateSchedule(requests, silos.Count, rate);
            var clock = Stopwatch.StartNew();
            schedule.Run(lanes);
            var seconds = clock.Elapsed.TotalSeconds;
            var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
            // Only answered requests, as wrk leaves errors and timeouts out of its latency.
            var latencies = schedule.Latencies.Where(double.IsFinite).ToArray();
            Array.Sort(latencies);
            Console.WriteLine(JsonSerializer.Serialize(new Summary(schedule.Accepted, schedule.Failed, lanes.Sum(l => l.Unanswered),
                LoadGenerators.Percentile(latencies, 50), LoadGenerators.Percentile(latencies, 99), cpu, seconds), SummaryJson));
            return 0;
        }
        finally
        {
            foreach (var lane in lanes) lane.Dispose();
        }
    }
}
