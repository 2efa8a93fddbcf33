using System.Collections.Concurrent;
using System.Net;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// Many concurrent HTTP clients submitting pods to a cluster that fits about half of them. A submission that gets
/// no answer (the silo was killed) is retried with the same name until it gets one, so every pod ends up either
/// accepted (202) or known to exist (409 after an unanswered attempt).
/// </summary>
public sealed class PodLoad(string prefix, int podCount, int clients)
{
    private static readonly string?[] GpuShapes = [null, null, null, "250m", "500m", "1"];
    private int _next = -1;

    public ConcurrentDictionary<string, Dictionary<string, string>> Requests { get; } = new();
    public ConcurrentBag<string> Accepted { get; } = [];
    public ConcurrentBag<string> ExistedAfterRetry { get; } = [];
    public int AcceptedCount => Accepted.Count;

    /// <summary>Ten nodes, 2,500 one-CPU pods' worth of CPU and 80 GPUs in all.</summary>
    public static async Task RegisterNodes(HttpClient http, string prefix, int count = 10, int cpuPerNode = 250)
    {
        for (var n = 0; n < count; n++)
        {
            using var response = await http.Post("/api/v1/nodes", Infrastructure.Requests.Node($"{prefix}node-{n}", cpu: $"{cpuPerNode}", memory: "1000Gi", gpus: "8"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
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
            var requests = new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" };
            if (GpuShapes[i % GpuShapes.Length] is { } gpu) requests["nvidia.com/gpu"] = gpu;
            Requests[name] = requests;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var response = await clientFor(client, attempt).Post("/api/v1/pods", new { name, requests });
                    if (response.StatusCode == HttpStatusCode.Accepted) { Accepted.Add(name); break; }
                    if (response.StatusCode == HttpStatusCode.Conflict && attempt > 0) { ExistedAfterRetry.Add(name); break; }
                    // The service rate-limits like any public API; a well-behaved client waits as told and retries.
                    if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < 200)
                    {
                        await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                        continue;
                    }
                    Assert.True(attempt < 200 && (int)response.StatusCode >= 500, $"POST {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Assert.True(attempt < 200, $"POST {name} never answered: {e.Message}");
                }
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Waits until no pod is Pending or Scheduled (every pod bound and running, or unschedulable).</summary>
    public static Task Settled(HttpClient http, int timeoutSeconds) =>
        http.WaitFor("/api/v1/cluster", c => !c.GetProperty("podsByPhase").TryGetProperty("Pending", out _)
            && !c.GetProperty("podsByPhase").TryGetProperty("Scheduled", out _), timeoutSeconds);
}
