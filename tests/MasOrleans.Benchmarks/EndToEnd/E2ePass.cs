using System.Globalization;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>Everything one pass measured, per placed pod where it says so.</summary>
public sealed record PassResult(
    int Silos,
    string Pass,
    int Pods,
    LoadResult Load,
    double PodsPerSecond,
    double BoundP50Ms,
    double BoundP99Ms,
    double RunningP50Ms,
    double RunningP99Ms,
    int NotRunning,
    double[] SiloCpuMs,
    double[] IdleCpuMsPerSecond,
    double RedisCpuMs,
    long RedisWrites,
    long RedisScripts,
    IReadOnlyList<(string Command, long Calls)> WritesByCommand,
    long[] PlacementsPerSilo,
    IReadOnlyList<SiloLogCount> Logs,
    double SettleSeconds,
    long SiloToSiloMessages = 0,
    long SiloToSiloBytes = 0,
    double JitMs = 0,
    long JitMethods = 0,
    long AllocatedBytes = 0,
    double GcPauseMs = 0)
{
    public double SiloCpuMsPerPod => SiloCpuMs.Sum() / Pods;
    public double JitMsPerPod => JitMs / Pods;
    public double AllocatedKbPerPod => AllocatedBytes / 1024.0 / Pods;
    public double GcPauseMsPerPod => GcPauseMs / Pods;
}

/// <summary>
/// One pass on a fresh cluster: FLUSHALL, N silos, nodes, a warm-up (JIT, first activations), then the measured load
/// from the first POST until the index counts every pod Running; CPU, Redis and metrics are sampled at both ends.
/// </summary>
public static class E2ePass
{
    /// <summary>
    /// Offered rate of the warm-up per silo (own generator): enough to tier up every hot path within seconds, not enough
    /// to queue deeply. A fresh silo JIT-compiles (tiered PGO) for its first few thousand placements, at up to a core, so the
    /// measured load starts after a warm-up of that size (see docs/benchmarks.md).
    /// </summary>
    private const double WarmupRate = 500;

    /// <summary>How long the silos' CPU is sampled with no load, so the per-pod figures can be read against it.</summary>
    private static readonly TimeSpan IdleSample = TimeSpan.FromSeconds(2);

    /// <summary>
    /// After the warm-up is Running, a silo still compiles its hot methods' optimized code in the background for a few
    /// seconds (measured: about a core for 3-4 s after a 5,000-pod burst, 60% of it in the JIT). The measured load waits
    /// until every silo's CPU over one second is under <see cref="SettledCpuMsPerSecond"/>, at most <see cref="MaxSettle"/>,
    /// so the per-pod figures are the steady state's, not the warm-up's tail.
    /// </summary>
    private const double SettledCpuMsPerSecond = 250;

    private static readonly TimeSpan MaxSettle = TimeSpan.FromSeconds(60);

    /// <summary>Waits until every silo's CPU over a second is under the settled level (or the cap); returns how long that took.</summary>
    private static async Task<TimeSpan> SettleAsync(SiloCluster cluster, CancellationToken cancellation)
    {
        var started = DateTimeOffset.UtcNow;
        while (DateTimeOffset.UtcNow - started < MaxSettle)
        {
            var before = cluster.CpuMilliseconds();
            await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
            if (cluster.CpuMilliseconds().Zip(before, (after, b) => after - b).All(ms => ms < SettledCpuMsPerSecond)) break;
        }
        return DateTimeOffset.UtcNow - started;
    }

    /// <summary>
    /// Below this many methods compiled per silo in a top-up round, the silos' hot paths count as compiled for good.
    /// </summary>
    private const int SettledJitMethodsPerSilo = 50;

    /// <summary>
    /// The warm-up alone leaves thousands of hot methods to be recompiled at tier 1 in the measured window (measured with
    /// the runtime's JIT counters: 0.2 ms of JIT per pod with one silo, 0.6-0.7 with two and three, docs/benchmarks.md
    /// session 18): .NET starts counting calls only once no new method has been compiled at tier 0 for 100 ms
    /// (<c>TC_CallCountingDelayMs</c>), which a busy warm-up never allows, and the settle that follows calls nothing. So
    /// rounds at the measured pass's maximum rate follow, each settled, until one compiles fewer than
    /// <see cref="SettledJitMethodsPerSilo"/> methods per silo (at most <see cref="E2eOptions.MaxTopUps"/>); each
    /// silo pays its one-time JIT before the clock starts, as a long-running silo has; a build without the runtime meter
    /// gets every round. Returns the pods placed so far.
    /// </summary>
    private static async Task<(int Placed, TimeSpan Settle)> TopUpAsync(E2eOptions options, ChildProcesses processes, SiloCluster cluster,
        string tag, int placed, TimeSpan limit, CancellationToken cancellation)
    {
        var pods = options.TopUpPods(cluster.Silos.Count);
        var settle = TimeSpan.Zero;
        for (var round = 1; round <= E2eOptions.MaxTopUps; round++)
        {
            var before = await cluster.CountersAsync(cancellation);
            var load = await LoadGenerators.RunWrkAsync(processes, cluster.Silos, $"{tag}-topup{round}", pods, options.Connections, limit, CancellationToken.None, cancellation);
            if (load.Accepted != pods) throw new InvalidOperationException($"{pods - load.Accepted} top-up POSTs were not accepted");
            placed += pods;
            await cluster.WaitUntilRunningAsync(placed, limit, cancellation);
            settle = await SettleAsync(cluster, cancellation);
            var after = await cluster.CountersAsync(cancellation);
            // A build without the runtime meter (an older baseline) reports no JIT at all: it gets every round.
            if (after.All(c => c.JitMethods == 0))
            {
                Console.WriteLine($"  top-up {round}: {pods} pods (no JIT counters)");
                continue;
            }
            var methods = after.Zip(before, (a, b) => a.JitMethods - b.JitMethods).ToArray();
            Console.WriteLine($"  top-up {round}: {pods} pods, methods compiled per silo {string.Join("/", methods)}");
            if (methods.All(m => m < SettledJitMethodsPerSilo)) break;
        }
        return (placed, settle);
    }

    /// <param name="pods">Pods of the measured load.</param>
    /// <param name="rate">Null: maximum rate with wrk; otherwise pods per second with the own open-loop generator.</param>
    public static async Task<PassResult> RunAsync(E2eOptions options, ChildProcesses processes, string siloDll, (int Pid, int Port) redis,
        int siloCount, string pass, int pods, double? rate, CancellationToken cancellation)
    {
        using (var connection = new RedisConnection(redis.Port)) connection.Execute("FLUSHALL");
        var tag = $"e2e-{pass}-{siloCount}";
        await using var cluster = await SiloCluster.StartAsync(processes, siloDll, redis.Port, siloCount, $"bench-{Guid.NewGuid():N}"[..20], tag, options.LogLevel, options.SiloEnvironment(siloCount), cancellation);
        await cluster.RegisterNodesAsync(options.Nodes, options.NodeCpus(siloCount), options.NodeMemoryMi(siloCount), cancellation);
        var limit = options.Timeout / 4;
        var warmup = options.WarmupPods(siloCount);
        TimeSpan settle;
        if (warmup > 0)
        {
            LoadResult warm;
            using (var warming = await FixedRateGenerator.StartAsync(processes, cluster.Addresses, "warmup-", warmup, WarmupRate * siloCount, 64, cancellation))
                warm = await warming.RunAsync(cancellation);
            if (warm.Failed > 0) throw new InvalidOperationException($"{warm.Failed} warm-up POSTs were not accepted");
            await cluster.WaitUntilRunningAsync(warmup, limit, cancellation);
            await SettleAsync(cluster, cancellation);
            (warmup, settle) = await TopUpAsync(options, processes, cluster, tag, warmup, limit, cancellation);
        }
        else settle = await SettleAsync(cluster, cancellation);

        // Started (connected, primed) before the idle sample and the clock, so its start-up is in neither.
        using var generator = rate is null ? null : await FixedRateGenerator.StartAsync(processes, cluster.Addresses, $"{tag}-", pods, rate.Value, 256, cancellation);
        var idleBefore = cluster.CpuMilliseconds();
        await Task.Delay(IdleSample, cancellation);
        var idleCpu = cluster.CpuMilliseconds().Zip(idleBefore, (after, before) => (after - before) / IdleSample.TotalSeconds).ToArray();

        using var redisStats = new RedisConnection(redis.Port);
        var countersBefore = await cluster.CountersAsync(cancellation);
        var commandsBefore = redisStats.CommandCalls();
        var redisCpuBefore = ProcCpu.Milliseconds(redis.Pid);
        var siloCpuBefore = cluster.CpuMilliseconds();
        var firstPost = DateTimeOffset.UtcNow;

        using var stopLoad = new CancellationTokenSource();
        var load = generator is null
            ? LoadGenerators.RunWrkAsync(processes, cluster.Silos, tag, pods, options.Connections, limit, stopLoad.Token, cancellation)
            : generator.RunAsync(cancellation);
        using (var polling = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
        {
            var running = cluster.WaitUntilRunningAsync(warmup + pods, limit, polling.Token);
            if (await Task.WhenAny(load, running) == load && (await load).Accepted < pods)
            {
                // POSTs that were refused never run: wait for the accepted ones instead of timing out.
                await polling.CancelAsync();
                await Task.WhenAny(running);
                running = cluster.WaitUntilRunningAsync(warmup + (await load).Accepted, limit, cancellation);
            }
            await running;
        }

        var siloCpu = cluster.CpuMilliseconds().Zip(siloCpuBefore, (after, before) => after - before).ToArray();
        var redisCpu = ProcCpu.Milliseconds(redis.Pid) - redisCpuBefore;
        var commandsAfter = redisStats.CommandCalls();
        var counters = (await cluster.CountersAsync(cancellation)).Zip(countersBefore, (after, before) => after - before).ToArray();
        var placements = counters.Select(c => c.Scheduled).ToArray();
        // Every accepted pod runs (or the wait gave up), so every answer is in; a wrk still waiting for one lost to a socket error is stopped.
        stopLoad.CancelAfter(TimeSpan.FromSeconds(30));
        var loadResult = await load;
        if (loadResult.Accepted != pods)
            Console.WriteLine($"  warning: {loadResult.Accepted} of {pods} POSTs accepted ({loadResult.Failed} answered otherwise)");

        var names = rate is null
            ? cluster.Silos.SelectMany(s => Enumerable.Range(1, LoadGenerators.Quota(pods, siloCount, s.Index))
                .Select(n => $"{LoadGenerators.WrkPrefix(tag, s.Index)}{n}")).ToList()
            : Enumerable.Range(0, pods).Select(i => $"{tag}-{i}").ToList();
        var timings = await PodTimings.ReadAsync(cluster.Clients, names, 16, cancellation);
        if (options.TimingsDirectory is { } directory)
            PodTimings.WriteCsv(Path.Combine(directory, $"{tag}-{firstPost:HHmmss}.csv"), timings, firstPost);
        var writes = WriteCommands(redisStats, commandsBefore, commandsAfter);
        var scripts = new[] { "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro" }
            .Sum(c => commandsAfter.GetValueOrDefault(c) - commandsBefore.GetValueOrDefault(c));

        var logLengths = SiloLogCount.Lengths(cluster.Silos);
        // Stopped here rather than at the end of the using, so the logs are complete; disposing again is a no-op.
        await cluster.DisposeAsync();
        var logs = cluster.Silos.Select((silo, i) => SiloLogCount.Read(silo, logLengths[i])).ToList();
        return Summarize(siloCount, pass, pods, loadResult, firstPost, timings, siloCpu, idleCpu, redisCpu, writes, scripts, placements, logs) with
        {
            SettleSeconds = settle.TotalSeconds,
            SiloToSiloMessages = counters.Sum(c => c.SiloToSiloSent),
            SiloToSiloBytes = counters.Sum(c => c.SiloToSiloBytes),
            JitMs = counters.Sum(c => c.JitMilliseconds),
            JitMethods = counters.Sum(c => c.JitMethods),
            AllocatedBytes = counters.Sum(c => c.AllocatedBytes),
            GcPauseMs = counters.Sum(c => c.GcPauseMilliseconds),
        };
    }

    private static PassResult Summarize(int silos, string pass, int pods, LoadResult load, DateTimeOffset firstPost, List<PodTiming> timings,
        double[] siloCpu, double[] idleCpu, double redisCpu, List<(string, long)> writes, long scripts, long[] placements, List<SiloLogCount> logs)
    {
        var bound = timings.Where(t => t.Bound is not null).Select(t => (t.Bound!.Value - t.Created).TotalMilliseconds).Order().ToList();
        var running = timings.Where(t => t.Running is not null).Select(t => (t.Running!.Value - t.Created).TotalMilliseconds).Order().ToList();
        var lastRunning = timings.Where(t => t.Running is not null).Select(t => t.Running!.Value).DefaultIfEmpty(firstPost).Max();
        var seconds = (lastRunning - firstPost).TotalSeconds;
        return new PassResult(silos, pass, pods, load, running.Count / Math.Max(seconds, 1e-3),
            LoadGenerators.Percentile(bound, 50), LoadGenerators.Percentile(bound, 99),
            LoadGenerators.Percentile(running, 50), LoadGenerators.Percentile(running, 99),
            pods - running.Count, siloCpu, idleCpu, redisCpu, writes.Sum(w => w.Item2), scripts, writes, placements, logs, 0);
    }

    /// <summary>
    /// Calls of commands Redis flags "write", after minus before. Redis counts a command run inside a Lua script
    /// (EVALSHA) in its own commandstats line as well, so scripts are left out here (counted separately) and nothing is
    /// counted twice: one etag-checked grain-state write is one HMSET, whether or not a script carried it.
    /// </summary>
    private static List<(string, long)> WriteCommands(RedisConnection redis, Dictionary<string, long> before, Dictionary<string, long> after) =>
        after.Select(c => (Command: c.Key, Calls: c.Value - before.GetValueOrDefault(c.Key)))
            .Where(c => c.Calls > 0 && redis.IsWriteCommand(c.Command))
            .OrderByDescending(c => c.Calls)
            .ToList();

    public static string Format(double value, string format = "F1") =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);
}
