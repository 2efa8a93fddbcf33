using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// The fixed-rate (open-loop) generator: pod i, named prefix + i, goes to silo i mod N at start + i / rate, whatever the
/// answers do. Each silo gets in-flight / N keep-alive connections (<see cref="RawHttpConnection"/>), so at most that
/// many POSTs wait for an answer at once and a pod due meanwhile waits for a free connection.
/// It runs in a child process of its own (this assembly's <c>e2e-load</c> verb), as wrk does at the maximum rate, so
/// its CPU is its own and not the harness's polling, and the runtime settings that keep it cheap stay off the
/// harness: no tiered compilation (primed before the clock starts, so nothing is compiled while it sends), workstation
/// GC, and pool threads that sleep at once instead of spinning. In-process with HttpClient it cost 14-31% of a core at
/// half rate, with tier-1 compiles during the pass and spinning among the causes (docs/benchmarks.md, session 19).
/// </summary>
public sealed class FixedRateGenerator : IDisposable
{
    public const string Verb = "e2e-load";

    private static readonly Dictionary<string, string> Runtime = new()
    {
        ["DOTNET_TieredCompilation"] = "0",
        ["DOTNET_gcServer"] = "0",
        ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
        // An answer's continuation (parse it, take the next pod, send it) runs on the socket engine's thread instead of
        // waking a pool thread: no thread hop per POST.
        ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1",
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
        var summary = JsonSerializer.Deserialize<Summary>(line, JsonSerializerOptions.Web)!;
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

    /// <param name="Unanswered">POSTs that got no answer (timeout, connection error); also counted in Failed.</param>
    private sealed record Summary(int Accepted, int Failed, int Unanswered, double PostP50Ms, double PostP99Ms, double CpuMs, double Seconds);

    /// <summary>The child's side: connect, prime, say "ready", wait for "go" on stdin, send, print the summary as JSON.</summary>
    public static async Task<int> MainAsync(IReadOnlyList<string> args)
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
        var lanes = new List<Lane>();
        try
        {
            for (var s = 0; s < silos.Count; s++)
                for (var c = 0; c < perSilo; c++) lanes.Add(await Lane.OpenAsync(s, silos[s]));
            // Primes the send and read paths (compiled once, fully: no tiering) without creating a pod: no route
            // matches, so the silo answers 404 without touching a grain (as wrk-pods.lua's filler does).
            foreach (var lane in lanes)
                if (await lane.SendAsync(RawHttpConnection.Get(lane.Silo, "/e2e-filler")) == 0) throw new IOException($"{lane.Silo} did not answer");
            await RunScheduleAsync(lanes, silos.Count, prefix, 1, 1000, new double[1], warmOnly: true);
            Console.WriteLine("ready");
            if (Console.ReadLine() != "go") return 2;

            var cpuBefore = Environment.CpuUsage.TotalTime;
            var latencies = new double[pods];
            var clock = Stopwatch.StartNew();
            var (accepted, failed) = await RunScheduleAsync(lanes, silos.Count, prefix, pods, rate, latencies);
            var seconds = clock.Elapsed.TotalSeconds;
            var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
            Array.Sort(latencies);
            Console.WriteLine(JsonSerializer.Serialize(new Summary(accepted, failed, lanes.Sum(l => l.Unanswered), LoadGenerators.Percentile(latencies, 50),
                LoadGenerators.Percentile(latencies, 99), cpu, seconds), JsonSerializerOptions.Web));
            return 0;
        }
        finally
        {
            foreach (var lane in lanes) lane.Dispose();
        }
    }

    /// <summary>
    /// The schedule: pod i is handed to silo i mod N's queue at i / rate, and each connection takes the next pod of its
    /// silo's queue when it is free. <paramref name="warmOnly"/> runs the same code without sending (so it is compiled
    /// before the clock starts).
    /// </summary>
    private static async Task<(int Accepted, int Failed)> RunScheduleAsync(List<Lane> lanes, int silos, string prefix, int pods, double rate,
        double[] latencies, bool warmOnly = false)
    {
        var due = Enumerable.Range(0, silos).Select(_ => Channel.CreateUnbounded<int>(new UnboundedChannelOptions
        {
            // A waiting connection sends its pod on the pacer's thread: no thread hop per POST.
            SingleWriter = true, AllowSynchronousContinuations = true,
        })).ToArray();
        int accepted = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        var workers = lanes.Select(async lane =>
        {
            // ReadAsync, not ReadAllAsync: a pod goes to one waiting connection, where WaitToReadAsync would wake every
            // idle connection of the silo for each pod (256 at half rate; most of the generator's CPU, measured).
            while (await NextAsync(due[lane.Index].Reader) is { } index)
            {
                var request = RawHttpConnection.Post(lane.Silo, "/api/v1/pods", LoadGenerators.PodJson($"{prefix}{index}"));
                if (warmOnly) continue;
                var started = Stopwatch.GetTimestamp();
                var status = await lane.SendAsync(request);
                latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Increment(ref status == (int)HttpStatusCode.Accepted ? ref accepted : ref failed);
            }
        }).ToList();
        for (var i = 0; i < pods; i++)
        {
            var wait = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
            due[i % silos].Writer.TryWrite(i);
        }
        foreach (var channel in due) channel.Writer.Complete();
        await Task.WhenAll(workers);
        return (accepted, failed);

        async ValueTask<int?> NextAsync(ChannelReader<int> reader)
        {
            try
            {
                return await reader.ReadAsync();
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// One connection to one silo, opened again after an answer that closes it or a POST that got no answer (counted,
    /// as wrk counts socket errors and timeouts, instead of ending the pass).
    /// </summary>
    private sealed class Lane(int index, Uri silo, RawHttpConnection connection) : IDisposable
    {
        /// <summary>As wrk's --timeout in the maximum-rate pass.</summary>
        public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

        private RawHttpConnection? _connection = connection;
        private CancellationTokenSource _timeout = new();

        public int Index => index;
        public Uri Silo => silo;
        public int Unanswered { get; private set; }

        public static async Task<Lane> OpenAsync(int index, Uri silo) => new(index, silo, await RawHttpConnection.ConnectAsync(silo, CancellationToken.None));

        /// <summary>The answer's status code, or 0 when none came.</summary>
        public async Task<int> SendAsync(byte[] request)
        {
            try
            {
                if (_connection is null || _connection.IsClosing)
                {
                    _connection?.Dispose();
                    _connection = await RawHttpConnection.ConnectAsync(silo, CancellationToken.None);
                }
                _timeout.CancelAfter(RequestTimeout);
                var status = await _connection.SendAsync(request, _timeout.Token);
                _timeout.TryReset();
                return status;
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or OperationCanceledException)
            {
                Unanswered++;
                _connection?.Dispose();
                _connection = null;
                _timeout.Dispose();
                _timeout = new CancellationTokenSource();
                return 0;
            }
        }

        public void Dispose()
        {
            _connection?.Dispose();
            _timeout.Dispose();
        }
    }
}
