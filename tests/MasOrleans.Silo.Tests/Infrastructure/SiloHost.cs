using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MasOrleans.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>The real application in this process, served by Kestrel on 127.0.0.1 and a free port (real HTTP, no TestServer).</summary>
public sealed class SiloHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SiloHost(WebApplication app, Uri baseAddress, SiloLog log)
    {
        _app = app;
        Log = log;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpClient Http { get; }

    /// <summary>The silo's warnings and errors; disposing fails on any the test did not <see cref="SiloLog.Expect"/>.</summary>
    public SiloLog Log { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>Memory storage unless a Redis connection is given; extra settings as "Section:Key" => value.</summary>
    /// <param name="expectedLog">Patterns of warnings the test expects, including those logged while the silo starts.</param>
    /// <param name="configure">Anything more the test adds to the application (a grain call filter that counts calls).</param>
    /// <param name="logMinimum">
    /// The lowest level <see cref="Log"/> records: Information for a test that waits for a record of that level (with the
    /// category's level raised in <paramref name="settings"/>); only Warnings and above are judged either way.
    /// </param>
    public static async Task<SiloHost> StartAsync(string? redis = null, IReadOnlyDictionary<string, string>? settings = null, string? clusterId = null,
        IReadOnlyList<string>? expectedLog = null, Action<WebApplicationBuilder>? configure = null, LogLevel logMinimum = LogLevel.Warning)
    {
        var port = FreePorts.Next();
        var args = new List<string>
        {
            "--urls", $"http://127.0.0.1:{port}",
            "--Storage:Provider", redis is null ? "memory" : "redis",
            "--Orleans:SiloPort", $"{FreePorts.Next()}",
            "--Orleans:GatewayPort", $"{FreePorts.Next()}",
            "--Orleans:ClusterId", clusterId ?? $"test-{port}",
            "--Logging:LogLevel:Default", "Warning",
        };
        if (redis is not null) args.AddRange(["--Redis:ConnectionString", redis]);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) args.AddRange([$"--{key}", value]);
        var log = new SiloLog(logMinimum);
        // Any test with two silos may stop the one hosting the learning grain while this one's model sync (every
        // second) is in flight: Orleans notes the broken call, and the sync asks again at its next tick.
        log.Expect(SiloLog.ModelSyncBrokenByStop);
        foreach (var pattern in expectedLog ?? []) log.Expect(pattern);
        var app = SiloApp.Build([.. args], builder =>
        {
            builder.Logging.AddProvider(log);
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        return new SiloHost(app, new Uri($"http://127.0.0.1:{port}"), log);
    }

    public async ValueTask DisposeAsync()
    {
        // Judged before stopping: what a silo logs while it shuts down is not the test's business.
        var unexpected = Log.Unexpected();
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Assert.True(unexpected.Count == 0, SiloLog.Describe(unexpected, Log.Records));
    }
}

/// <summary>JSON helpers shared by the HTTP tests.</summary>
public static class Requests
{
    public static async Task<HttpResponseMessage> Post(this HttpClient http, string path, object body) => await http.PostAsJsonAsync(path, body);

    public static async Task<JsonElement> Json(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> GetJson(this HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Json();
    }

    public static object Node(string name, string cpu = "8", string memory = "32Gi", string gpus = "0", Dictionary<string, string>? labels = null) => new
    {
        name,
        capacity = new Dictionary<string, string> { ["cpu"] = cpu, ["memory"] = memory, ["nvidia.com/gpu"] = gpus },
        labels = labels ?? new Dictionary<string, string>(),
    };

    public static object Pod(string name, string cpu = "1", string memory = "1Gi", string? gpu = null, string? policy = null, string? image = null)
    {
        var requests = new Dictionary<string, string> { ["cpu"] = cpu, ["memory"] = memory };
        if (gpu is not null) requests["nvidia.com/gpu"] = gpu;
        return new { name, requests, policy, image };
    }

    /// <summary>
    /// Polls until the condition holds (scheduling is asynchronous), failing with the last answer seen. With
    /// <paramref name="retryUnavailable"/>, for tests that kill a silo, a 503 is asked again like an answer that does not
    /// hold yet: a listing merges every queue shard, and one that lived on the dead silo answers once it moved.
    /// </summary>
    public static async Task<JsonElement> WaitFor(this HttpClient http, string path, Func<JsonElement, bool> condition, int timeoutSeconds = 20,
        bool retryUnavailable = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            using var response = await http.GetAsync(path);
            string last;
            if (retryUnavailable && response.StatusCode == HttpStatusCode.ServiceUnavailable) last = $"503 {await response.Content.ReadAsStringAsync()}";
            else if (response.StatusCode == HttpStatusCode.TooManyRequests && response.Headers.RetryAfter?.Delta is { } wait)
            {
                // A load the test just ran can fill the rate limiter's window (RateLimiting:PermitLimit a second): the
                // silo said when to ask again, as it would tell any client; RequestLimitsTests covers the limiter.
                last = $"429 {await response.Content.ReadAsStringAsync()}";
                await Task.Delay(wait);
            }
            else
            {
                Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                var value = await response.Json();
                if (condition(value)) return value;
                last = value.ToString();
            }
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting on {path}; last: {last}");
            await Task.Delay(50);
        }
    }

    public static string Phase(this JsonElement pod) => pod.GetProperty("phase").GetString()!;

    /// <summary>A node of <paramref name="nodeCpu"/> CPUs and a pod asking <paramref name="podCpu"/>, waited for until it is in <paramref name="phase"/>.</summary>
    public static async Task NodeAndPod(this HttpClient http, string node, string nodeCpu, string pod, string podCpu, string phase)
    {
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", Node(node, cpu: nodeCpu))).StatusCode);
        using (var created = await http.Post("/api/v1/pods", Pod(pod, cpu: podCpu)))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        await http.WaitFor($"/api/v1/pods/{pod}", p => p.Phase() == phase);
    }
}
