using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MasOrleans.Benchmarks.ScaleOut;

/// <summary>What one trial measured: seconds until every pod was accepted, and until every pod was placed.</summary>
public sealed record TrialResult(int Silos, int Trial, double SubmitSeconds, double PlacedSeconds, int Retried429, int Pods)
{
    public double PodsPerSecond => Pods / PlacedSeconds;
}

/// <summary>
/// One end-to-end trial on a fresh Redis and fresh silos: nodes are created, then N pods are POSTed by C concurrent
/// clients round-robin across the silos, and the clock stops when /api/v1/cluster counts every pod scheduled or running.
/// </summary>
public static class ScaleOutTrial
{
    private static readonly TimeSpan PlacementTimeout = TimeSpan.FromMinutes(5);

    public static async Task<TrialResult> RunAsync(ScaleOutOptions options, string siloDll, int siloCount, int trial)
    {
        using var processes = new ChildProcesses();
        var redis = processes.StartRedis();
        var clusterId = $"bench-{Guid.NewGuid():N}";
        var silos = new List<HttpClient>();
        try
        {
            // Started one after the other so the second joins the first's membership instead of racing it.
            for (var s = 0; s < siloCount; s++) silos.Add(await processes.StartSiloAsync(siloDll, redis, clusterId));
            await CreateNodesAsync(silos, options);

            var clock = Stopwatch.StartNew();
            var retried = await SubmitPodsAsync(silos, options);
            var submitted = clock.Elapsed.TotalSeconds;
            await WaitUntilPlacedAsync(silos[0], options.Pods, clock);
            return new TrialResult(siloCount, trial, submitted, clock.Elapsed.TotalSeconds, retried, options.Pods);
        }
        finally
        {
            foreach (var http in silos) http.Dispose();
            processes.StopAll();
        }
    }

    private static async Task CreateNodesAsync(List<HttpClient> silos, ScaleOutOptions options)
    {
        for (var n = 0; n < options.Nodes; n++)
        {
            var node = new
            {
                name = $"bench-node-{n:D4}",
                capacity = new Dictionary<string, string> { ["cpu"] = $"{ScaleOutOptions.NodeCpus}", ["memory"] = "512Gi" },
            };
            await SendAsync(silos[n % silos.Count], "/api/v1/nodes", node);
        }
    }

    /// <summary>C workers take the next pod index and POST it to silo (index mod silo count); returns how many 429s were retried.</summary>
    private static async Task<int> SubmitPodsAsync(List<HttpClient> silos, ScaleOutOptions options)
    {
        var next = -1;
        var retried = 0;
        await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < options.Pods)
            {
                var pod = new
                {
                    name = $"bench-pod-{i:D6}",
                    requests = new Dictionary<string, string> { ["cpu"] = ScaleOutOptions.PodCpu, ["memory"] = "128Mi" },
                };
                Interlocked.Add(ref retried, await SendAsync(silos[i % silos.Count], "/api/v1/pods", pod));
            }
        }));
        return retried;
    }

    /// <summary>POSTs until accepted, honouring Retry-After on 429; any other failure stops the benchmark. Returns retries.</summary>
    private static async Task<int> SendAsync(HttpClient http, string path, object body)
    {
        for (var retries = 0; ; retries++)
        {
            using var response = await http.PostAsJsonAsync(path, body);
            if (response.IsSuccessStatusCode) return retries;
            if (response.StatusCode != HttpStatusCode.TooManyRequests || retries >= 100)
                throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(100));
        }
    }

    private static async Task WaitUntilPlacedAsync(HttpClient http, int pods, Stopwatch clock)
    {
        var placed = 0;
        while (placed < pods)
        {
            if (clock.Elapsed > PlacementTimeout) throw new TimeoutException($"only {placed} of {pods} pods placed after {PlacementTimeout}");
            await Task.Delay(20);
            using var response = await http.GetAsync("/api/v1/cluster");
            response.EnsureSuccessStatusCode();
            using var summary = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            placed = 0;
            foreach (var phase in summary.RootElement.GetProperty("podsByPhase").EnumerateObject())
                if (phase.Name is "Scheduled" or "Running") placed += phase.Value.GetInt32();
        }
    }
}
