using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// Many concurrent HTTP clients submitting pods of six shapes to a cluster they over-ask in cpu, memory and GPUs.
/// A submission that gets no answer (the silo was killed) is retried with the same name until it gets one, so every
/// pod ends up either accepted (202) or known to exist (409 after an unanswered attempt). A server error fails the
/// run: only 429 and 503 that carry Retry-After are retried (as told), and they are counted.
/// </summary>
public sealed class PodLoad(string prefix, int podCount, int clients)
{
    public const int MaxAttempts = 200;

    /// <summary>
    /// Pod shapes by index modulo 8: (cpu, memory, GPU). For 5,000 pods: 1,875 small CPU-only (1 cpu, 1Gi), 625
    /// memory-heavy (1 cpu, 16Gi) and 625 of each GPU shape.
    /// </summary>
    private static readonly (string Cpu, string Memory, string? Gpu)[] Shapes =
    [
        ("1", "1Gi", null), ("1", "1Gi", null), ("1", "1Gi", null), ("1", "16Gi", null),
        ("2", "4Gi", "250m"), ("2", "4Gi", "500m"), ("4", "16Gi", "1"), ("16", "64Gi", "2"),
    ];

    private int _next = -1;
    private int _retriedAsTold;
    private int _acceptedCount;
    private (int Count, Action Act, TaskCompletionSource Done)? _atAccepted;
    private readonly ConcurrentDictionary<string, int> _retriedByStatus = new();

    public ConcurrentDictionary<string, Dictionary<string, string>> Requests { get; } = new();
    public ConcurrentBag<string> Accepted { get; } = [];
    public ConcurrentBag<string> ExistedAfterRetry { get; } = [];
    public int AcceptedCount => Accepted.Count;

    /// <summary>429/503 answers with Retry-After that were retried, by status; for the test's report.</summary>
    public IReadOnlyDictionary<string, int> RetriedAsTold => _retriedByStatus;
    public int RetriedAsToldCount => Volatile.Read(ref _retriedAsTold);

    /// <summary>An attempt that got no answer: when it was sent, and what the client saw after how long.</summary>
    public sealed record NoAnswer(string Pod, int Attempt, DateTime Sent, TimeSpan Waited, Exception Error)
    {
        public override string ToString() =>
            $"{Pod} attempt {Attempt} at {Sent:HH:mm:ss.fff}: {Error.GetType().Name} after {Waited.TotalSeconds:F1} s: {Error.Message}";
    }

    /// <summary>Attempts that got no answer; for failure messages.</summary>
    public ConcurrentQueue<NoAnswer> Unanswered { get; } = new();

    /// <summary>
    /// What the run saw besides plain acceptance, for a failing assertion's message; with the server's creation time
    /// of the first unanswered pods, which tells a silo that answered late from a client that read the answer late.
    /// </summary>
    public async Task<string> Summary(HttpClient http)
    {
        var text = new System.Text.StringBuilder(
            $"accepted {AcceptedCount}, existed after a retry {ExistedAfterRetry.Count}, retried as told {RetriedAsToldCount} "
            + $"({string.Join(", ", RetriedAsTold.Select(kv => $"{kv.Key}x{kv.Value}"))}), unanswered {Unanswered.Count}");
        foreach (var attempt in Unanswered.Take(5))
        {
            string created;
            try
            {
                using var pod = await http.GetAsync($"/api/v1/pods/{attempt.Pod}");
                created = pod.IsSuccessStatusCode
                    ? JsonDocument.Parse(await pod.Content.ReadAsStringAsync()).RootElement.GetProperty("createdAt").GetDateTimeOffset().ToString("HH:mm:ss.fff")
                    : $"{(int)pod.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Only a diagnostic: a silo that no longer answers must not hide the failure being described.
                created = $"unknown, GET failed: {e.Message}";
            }
            text.Append($"\n{attempt} (created by the silo at {created})");
        }
        return text.ToString();
    }

    /// <summary>
    /// Ten nodes of 300 cpu, 1,350Gi and 8 GPUs (3,000 cpu, 13,500Gi, 80 GPUs). Sized by hand against the shapes
    /// (5,000 pods):
    /// - the CPU-only pods alone ask 2,500 cpu and 11,875Gi, leaving at least 500 cpu and 1,625Gi: a scheduler that
    ///   never placed a GPU pod would leave GPU pods waiting that fit (caught by <see cref="AssertNothingLeftThatFits"/>);
    /// - the GPU pods ask 625 x (0.25 + 0.5 + 1 + 2) = 2,343 GPUs for 80: GPU devices run out;
    /// - what binds before the GPUs are gone (about 21 of each GPU shape: 512 cpu, 1,850Gi) plus the CPU-only pods
    ///   over-asks cpu (3,012) and memory (13,725Gi), so cpu and memory run out too.
    /// </summary>
    /// Their `pods` capacity (1,000) keeps CPU, memory and GPUs the limits, not kube's default 110 pods per node.
    public static async Task RegisterNodes(HttpClient http, string prefix, int count = 10, string cpu = "300", string memory = "1350Gi")
    {
        for (var n = 0; n < count; n++)
        {
            var node = new
            {
                name = $"{prefix}node-{n}",
                capacity = new Dictionary<string, string> { ["cpu"] = cpu, ["memory"] = memory, ["nvidia.com/gpu"] = "8", ["pods"] = "1000" },
            };
            using var response = await http.Post("/api/v1/nodes", node);

            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
    }

    /// <summary>
    /// Runs <paramref name="act"/> on the client that gets the <paramref name="count"/>th 202, before it sends again; the
    /// task ends when it has run. A fault injected there finds the other clients' requests in flight, where a test thread
    /// polling the count can be starved until the whole load has been placed (CI: a kill that found no pod pending).
    /// </summary>
    public Task AtAccepted(int count, Action act)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _atAccepted = (count, act, done);
        return done.Task;
    }

    /// <summary>Runs all clients to completion; <paramref name="clientFor"/> picks the silo for a client and attempt.</summary>
    public Task RunAsync(Func<int, int, HttpClient> clientFor) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => Client(c, clientFor))));

    private async Task Client(int client, Func<int, int, HttpClient> clientFor)
    {
        int i;
        while ((i = Interlocked.Increment(ref _next)) < podCount)
        {
            var name = $"{prefix}{i:0000}";
            var (cpu, memory, gpu) = Shapes[i % Shapes.Length];
            var requests = new Dictionary<string, string> { ["cpu"] = cpu, ["memory"] = memory };
            if (gpu is not null) requests["nvidia.com/gpu"] = gpu;
            Requests[name] = requests;
            for (var attempt = 0; ; attempt++)
            {
                Assert.True(attempt < MaxAttempts, $"POST {name}: no final answer after {MaxAttempts} attempts");
                TimeSpan wait;
                var sent = DateTime.UtcNow;
                try
                {
                    using var response = await clientFor(client, attempt).Post("/api/v1/pods", new { name, requests });
                    if (response.StatusCode == HttpStatusCode.Accepted) { Accepted.Add(name); OnAccepted(); break; }
                    if (response.StatusCode == HttpStatusCode.Conflict && attempt > 0) { ExistedAfterRetry.Add(name); break; }
                    // A well-behaved client retries only what the server says is worth retrying, after the time it names.
                    if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || response.Headers.RetryAfter?.Delta is not { } after)
                        throw new Xunit.Sdk.XunitException($"POST {name} (attempt {attempt}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    Interlocked.Increment(ref _retriedAsTold);
                    _retriedByStatus.AddOrUpdate($"{(int)response.StatusCode}", 1, (_, n) => n + 1);
                    wait = after;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // No answer at all: the silo died or is restarting. The same name is safe to send again.
                    Unanswered.Enqueue(new NoAnswer(name, attempt, sent, DateTime.UtcNow - sent, e));
                    wait = TimeSpan.FromMilliseconds(250);
                }
                await Task.Delay(wait);
            }
        }
    }

    private void OnAccepted()
    {
        if (_atAccepted is not { } at || Interlocked.Increment(ref _acceptedCount) != at.Count) return;
        try
        {
            at.Act();
            at.Done.SetResult();
        }
        catch (Exception e)
        {
            at.Done.SetException(e);
            throw;
        }
    }

    /// <summary>
    /// Waits until no pod is Pending or Scheduled (every pod bound and running, or unschedulable);
    /// <paramref name="afterSiloDeath"/>: a 503 is asked again (see WaitFor).
    /// </summary>
    public static Task Settled(HttpClient http, int timeoutSeconds, bool afterSiloDeath = false) =>
        http.WaitFor("/api/v1/cluster", c => !c.GetProperty("podsByPhase").TryGetProperty("Pending", out _)
            && !c.GetProperty("podsByPhase").TryGetProperty("Scheduled", out _), timeoutSeconds, retryUnavailable: afterSiloDeath);

    /// <summary>
    /// How long a waiting pod that fits may stay waiting: an unschedulable pod is tried again when capacity appears, but
    /// not before its backoff ends (doubling up to Scheduler:MaxBackoffMilliseconds, 10 s by default), and room can
    /// appear after the pods settled (the reconciliation freeing a dead silo's orphaned reservation): the longest backoff
    /// and then 15 s for the cycle itself on a starved machine.
    /// </summary>
    public static readonly TimeSpan BackoffAllowance = TimeSpan.FromSeconds(10 + 15);

    /// <summary>
    /// Pending pods really were scheduled: no waiting pod, of any shape, fits on any node as the nodes stand now
    /// (cpu and memory free, and a device with the share free or enough whole free devices), or at the latest in the
    /// first read of the cluster (the check that returned it, <see cref="ClusterInvariants.Result.ReadStarted"/>) that starts once <see cref="BackoffAllowance"/> has passed. Judged by when a read starts,
    /// not when it ends: one read of thousands of pods can take most of the allowance on a starved machine, and what it
    /// shows is the cluster as it stood when it began; one read after the allowance, however long it takes, so a pod
    /// left waiting until the views' periodic full re-read (30 s) still fails.
    /// </summary>
    public static Task AssertNothingLeftThatFits(HttpClient http, string podPrefix, ClusterInvariants.Result result, PodLoad load) =>
        AssertNothingLeftThatFits(() => ClusterInvariants.CheckAsync(http, podPrefix, load.Requests, BackoffAllowance), result, load);

    /// <summary>The same, reading the cluster again with <paramref name="read"/> (a test of the rule gives its own reads).</summary>
    internal static async Task AssertNothingLeftThatFits(Func<Task<ClusterInvariants.Result>> read, ClusterInvariants.Result result, PodLoad load)
    {
        var started = DateTime.UtcNow;
        while (FirstThatFits(result, load) is { } fits)
        {
            // The caller's read began before this call (ReadStarted earlier than started): within the allowance.
            Assert.True(result.ReadStarted - started < BackoffAllowance,
                $"{fits} (in a read started {(result.ReadStarted - started).TotalSeconds:F0} s in, past the {BackoffAllowance.TotalSeconds:F0} s allowance)");
            await Task.Delay(1000);
            // While pods still wait, one may be held by a node from an earlier attempt (a fault cut its cycle short): its
            // next cycle completes the reservation, after its backoff.
            result = await read();
        }
    }

    private static string? FirstThatFits(ClusterInvariants.Result result, PodLoad load)
    {
        var nodes = result.Nodes.Select(FreeOf).ToList();
        foreach (var pod in result.Pods.Where(p => p.Phase() == "Unschedulable"))
        {
            var name = pod.GetProperty("name").GetString()!;
            var want = ClusterInvariants.Vector(load.Requests[name]);
            foreach (var node in nodes.Where(node => Fits(want, node)))
            {
                return $"{name} ({string.Join(", ", load.Requests[name].Select(kv => $"{kv.Key}={kv.Value}"))}) waits, yet fits on {node.Name}: "
                    + $"{node.Cpu}m cpu, {node.Memory / (1024 * 1024)}Mi, GPU free [{string.Join(", ", node.GpuFree)}]";
            }
        }
        return null;
    }

    private sealed record NodeFree(string Name, long Cpu, long Memory, int[] GpuFree);

    private static NodeFree FreeOf(JsonElement node)
    {
        var capacity = ClusterInvariants.Vector(node.GetProperty("capacity"));
        var allocated = ClusterInvariants.Vector(node.GetProperty("allocated"));
        return new NodeFree(node.GetProperty("name").GetString()!,
            capacity[(int)ResourceKind.Cpu] - allocated[(int)ResourceKind.Cpu],
            capacity[(int)ResourceKind.Memory] - allocated[(int)ResourceKind.Memory],
            node.GetProperty("gpus").EnumerateArray().Select(g => g.GetProperty("freeMilli").GetInt32()).ToArray());
    }

    /// <summary>A GPU request below 1000m shares one device; 1000m or more takes that many whole, fully free devices.</summary>
    private static bool Fits(long[] want, NodeFree node)
    {
        if (want[(int)ResourceKind.Cpu] > node.Cpu || want[(int)ResourceKind.Memory] > node.Memory) return false;
        var gpu = want[(int)ResourceKind.Gpu];
        if (gpu == 0) return true;
        return gpu < 1000 ? node.GpuFree.Any(f => f >= gpu) : node.GpuFree.Count(f => f == 1000) >= gpu / 1000;
    }
}
