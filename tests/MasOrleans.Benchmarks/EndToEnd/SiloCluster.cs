using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// N silo processes of one fresh cluster on the benchmark's Redis: started, waited for until every one is Active in
/// the Redis membership table and healthy, given the nodes, and killed at the end.
/// </summary>
public sealed class SiloCluster : IAsyncDisposable
{
    /// <summary>The simulated runtime's delays, zeroed so the benchmark measures scheduling, not pretend image pulls.</summary>
    public static readonly IReadOnlyDictionary<string, string> ZeroDelays = new Dictionary<string, string>
    {
        ["ContainerRuntime__PullMilliseconds"] = "0",
        ["ContainerRuntime__StartMilliseconds"] = "0",
    };

    private readonly ChildProcesses _processes;

    private SiloCluster(ChildProcesses processes, List<SiloProcess> silos, List<HttpClient> clients)
    {
        _processes = processes;
        Silos = silos;
        Clients = clients;
    }

    public IReadOnlyList<SiloProcess> Silos { get; }
    public IReadOnlyList<HttpClient> Clients { get; }
    public IReadOnlyList<Uri> Addresses => [.. Silos.Select(s => s.BaseAddress)];

    /// <param name="logLevel">The silos' default log level (the benchmark's default, Warning, logs what went wrong only).</param>
    /// <param name="extra">More environment for every silo (the benchmark's <c>--silo-env</c>), after the benchmark's own.</param>
    public static async Task<SiloCluster> StartAsync(ChildProcesses processes, string siloDll, int redisPort, int count, string clusterId,
        string logPrefix, string logLevel, IReadOnlyDictionary<string, string> extra, CancellationToken cancellation)
    {
        var environment = new Dictionary<string, string>(ZeroDelays)
        {
            ["Storage__Provider"] = "redis",
            ["Redis__ConnectionString"] = $"127.0.0.1:{redisPort}",
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__AdvertisedIP"] = "127.0.0.1",
            // The benchmark is the only client: the per-key limit would measure the limiter, not the cluster.
            ["RateLimiting__Enabled"] = "false",
            // Warnings and errors only by default: they are what the benchmark counts, and per-request lines cost silo CPU.
            ["Logging__LogLevel__Default"] = logLevel,
        };
        foreach (var (key, value) in extra)
        {
            // --silo-env adds; what the benchmark sets itself (and reports in its header) is not for it to change.
            if (environment.ContainsKey(key) || key is "MAS_BENCH_LOG" or "Orleans__SiloPort" or "Orleans__GatewayPort")
                throw new ArgumentException($"--silo-env {key}: the benchmark sets {key} itself");
            environment[key] = value;
        }
        var silos = new List<SiloProcess>();
        var clients = new List<HttpClient>();
        var cluster = new SiloCluster(processes, silos, clients);
        try
        {
            // One after the other, so each joins the membership the first one created instead of racing it.
            for (var i = 0; i < count; i++)
            {
                var silo = processes.StartSilo(siloDll, i, environment, $"{logPrefix}-silo{i}.log");
                silos.Add(silo);
                clients.Add(new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 })
                {
                    BaseAddress = silo.BaseAddress,
                    Timeout = TimeSpan.FromSeconds(60),
                });
                await WaitHealthyAsync(silo, clients[i], cancellation);
            }
            await WaitForMembershipAsync(redisPort, clusterId, count, cancellation);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Registers the nodes round-robin through the silos.</summary>
    public async Task RegisterNodesAsync(int nodes, int cpus, long memoryMi, CancellationToken cancellation)
    {
        for (var n = 0; n < nodes; n++)
        {
            var node = new { name = $"bench-node-{n:D3}", capacity = new Dictionary<string, string> { ["cpu"] = $"{cpus}", ["memory"] = $"{memoryMi}Mi", ["pods"] = $"{cpus * 10}" } };
            using var response = await Clients[n % Clients.Count].PostAsJsonAsync("/api/v1/nodes", node, cancellation);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"POST /api/v1/nodes: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellation)}");
        }
    }

    /// <summary>Pods the cluster index counts Running (GET /api/v1/cluster on the first silo).</summary>
    public async Task<int> RunningPodsAsync(CancellationToken cancellation)
    {
        using var summary = JsonDocument.Parse(await Clients[0].GetStringAsync("/api/v1/cluster", cancellation));
        return summary.RootElement.GetProperty("podsByPhase").TryGetProperty("Running", out var running) ? running.GetInt32() : 0;
    }

    /// <summary>
    /// Polls until at least <paramref name="pods"/> pods are Running, or the count has not moved for
    /// <see cref="StallLimit"/>, or <paramref name="limit"/> has passed; returns the last count (the caller reports a
    /// shortfall: a pod that never runs is a finding, not a reason to lose the run's other figures).
    /// </summary>
    public async Task<int> WaitUntilRunningAsync(int pods, TimeSpan limit, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow + limit;
        var lastProgress = DateTime.UtcNow;
        var running = 0;
        while (true)
        {
            var now = await RunningPodsAsync(cancellation);
            if (now >= pods) return now;
            if (now != running) (running, lastProgress) = (now, DateTime.UtcNow);
            if (DateTime.UtcNow - lastProgress > StallLimit || DateTime.UtcNow > deadline)
            {
                Console.WriteLine($"  warning: only {running} of {pods} pods Running; stopped waiting (no progress for {StallLimit.TotalSeconds:F0} s or {limit} passed)");
                return running;
            }
            await Task.Delay(100, cancellation);
        }
    }

    /// <summary>How long the Running count may stand still before the wait gives up.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Each silo's placements (<c>mas_scheduling_decisions_total{result="scheduled"}</c>) and the messages it sent to
    /// other silos (Orleans' <c>orleans_messaging_sent_messages_size_bytes</c> histogram, SiloToSilo: requests,
    /// responses and one-way messages, counted and summed in bytes), and the runtime's JIT time and compiled methods
    /// (<c>dotnet_jit_*</c>, the System.Runtime meter; zero from a build without it), and the bytes it allocated and the
    /// time its GC paused it (<c>dotnet_gc_*</c>, same meter), read from /metrics.
    /// </summary>
    public async Task<SiloCounters[]> CountersAsync(CancellationToken cancellation)
    {
        var counters = new SiloCounters[Clients.Count];
        for (var i = 0; i < Clients.Count; i++)
        {
            long scheduled = 0, siloToSilo = 0, siloToSiloBytes = 0, jitMethods = 0, allocated = 0;
            double jitSeconds = 0, gcPauseSeconds = 0;
            var metrics = await Clients[i].GetStringAsync("/metrics", cancellation);
            foreach (var line in metrics.Split('\n'))
            {
                if (line.StartsWith("mas_scheduling_decisions_total{", StringComparison.Ordinal) && line.Contains("result=\"scheduled\"", StringComparison.Ordinal))
                    scheduled += Value(line);
                else if (line.StartsWith("orleans_messaging_sent_messages_size_bytes_count{", StringComparison.Ordinal)
                         && line.Contains("ConnectionDirection=\"SiloToSilo\"", StringComparison.Ordinal))
                    siloToSilo += Value(line);
                else if (line.StartsWith("orleans_messaging_sent_messages_size_bytes_sum{", StringComparison.Ordinal)
                         && line.Contains("ConnectionDirection=\"SiloToSilo\"", StringComparison.Ordinal))
                    siloToSiloBytes += Value(line);
                else if (line.StartsWith("dotnet_jit_compilation_time_seconds_total{", StringComparison.Ordinal))
                    jitSeconds += Number(line);
                else if (line.StartsWith("dotnet_jit_compiled_methods_total{", StringComparison.Ordinal))
                    jitMethods += Value(line);
                else if (line.StartsWith("dotnet_gc_heap_total_allocated_bytes_total{", StringComparison.Ordinal))
                    allocated += Value(line);
                else if (line.StartsWith("dotnet_gc_pause_time_seconds_total{", StringComparison.Ordinal))
                    gcPauseSeconds += Number(line);
            }
            counters[i] = new SiloCounters(scheduled, siloToSilo, siloToSiloBytes, jitSeconds * 1000, jitMethods, allocated, gcPauseSeconds * 1000);
        }
        return counters;

        static long Value(string line) => (long)Number(line);
        static double Number(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    public double[] CpuMilliseconds() => Silos.Select(s => ProcCpu.Milliseconds(s.Pid)).ToArray();

    public async ValueTask DisposeAsync()
    {
        foreach (var client in Clients) client.Dispose();
        foreach (var silo in Silos) _processes.Kill(silo.Process);
        await Task.CompletedTask;
    }

    private static async Task WaitHealthyAsync(SiloProcess silo, HttpClient client, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (silo.Process.HasExited) throw new InvalidOperationException($"silo {silo.Index} exited early; log: {silo.LogPath}");
            try
            {
                using var response = await client.GetAsync("/health", cancellation);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"silo {silo.Index} not healthy after 120 s; log: {silo.LogPath}");
            await Task.Delay(200, cancellation);
        }
    }

    /// <summary>Waits until the Redis membership table (mas-orleans/members/{clusterId}) lists <paramref name="count"/> Active silos.</summary>
    private static async Task WaitForMembershipAsync(int redisPort, string clusterId, int count, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        using var redis = new RedisConnection(redisPort);
        int active;
        while ((active = ActiveSilos(redis, clusterId)) != count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{active} of {count} silos Active in the membership table after 60 s");
            await Task.Delay(200, cancellation);
        }
    }

    private static int ActiveSilos(RedisConnection redis, string clusterId)
    {
        if (redis.Execute("HGETALL", $"mas-orleans/members/{clusterId}") is not object?[] fields) return 0;
        var active = 0;
        // Field/value pairs: "Version" -> n, then one entry per silo whose JSON carries "Status":3 (Active).
        for (var i = 1; i < fields.Length; i += 2)
            if (fields[i] is string entry && entry.Contains("\"Status\":3", StringComparison.Ordinal)) active++;
        return active;
    }
}

/// <summary>Counters of one silo read from its /metrics; a pass reports the difference over the measurement.</summary>
public readonly record struct SiloCounters(long Scheduled, long SiloToSiloSent, long SiloToSiloBytes, double JitMilliseconds, long JitMethods,
    long AllocatedBytes, double GcPauseMilliseconds)
{
    public static SiloCounters operator -(SiloCounters after, SiloCounters before) =>
        new(after.Scheduled - before.Scheduled, after.SiloToSiloSent - before.SiloToSiloSent, after.SiloToSiloBytes - before.SiloToSiloBytes,
            after.JitMilliseconds - before.JitMilliseconds, after.JitMethods - before.JitMethods,
            after.AllocatedBytes - before.AllocatedBytes, after.GcPauseMilliseconds - before.GcPauseMilliseconds);
}
