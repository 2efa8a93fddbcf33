using System.Net;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// One silo with short control-loop periods (workload resync 0.3 s, backoffs in tenths). The heartbeat grace is 10 s,
/// not shorter: the telemetry pumps report every 200 ms, and a starved test process that paused them for a grace would
/// make a node flap NotReady (extra evictions and events) in a test about something else.
/// </summary>
public sealed class ControlLoopFixture : IAsyncLifetime
{
    public const double GraceSeconds = 10;

    public SiloHost Host { get; private set; } = null!;
    public HttpClient Http => Host.Http;

    public async Task InitializeAsync() => Host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Telemetry:HeartbeatGraceSeconds"] = $"{GraceSeconds}",
        ["Scheduler:RetryCoalesceMilliseconds"] = "50",
        ["Scheduler:InitialBackoffMilliseconds"] = "200",
        ["Scheduler:MaxBackoffMilliseconds"] = "1000",
        ["Scheduler:ReconcileSeconds"] = "1",
        ["Workloads:ResyncSeconds"] = "0.3",
        ["Workloads:FailureBackoffSeconds"] = "0.3",
        ["Workloads:MaxFailureBackoffSeconds"] = "5",
        ["Workloads:BackoffResetSeconds"] = "10",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ControlLoopCollection : ICollectionFixture<ControlLoopFixture>
{
    public const string Name = "control loop";
}

/// <summary>What the control-loop tests share: the one silo, its log checked after every test, and the API helpers.</summary>
public abstract class ControlLoopTestBase(ControlLoopFixture fixture) : IDisposable
{
    protected ControlLoopFixture Fixture => fixture;

    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Host.Log.AssertClean();

    protected HttpClient Http => fixture.Http;

    protected sealed record Event(string Reason, string Message, DateTimeOffset LastSeen, int Count);

    protected async Task<List<Event>> Events(string kind, string name) =>
        (await Http.GetJson($"/api/v1/{kind}/{name}/events")).GetProperty("items").EnumerateArray()
            .Select(e => new Event(e.GetProperty("reason").GetString()!, e.GetProperty("message").GetString()!,
                e.GetProperty("lastSeen").GetDateTimeOffset(), e.GetProperty("count").GetInt32())).ToList();

    protected static string Step(string message) => message[(message.IndexOf(": ", StringComparison.Ordinal) + 2)..message.IndexOf(" replica", StringComparison.Ordinal)];

    protected static void AssertSpaced(IReadOnlyList<Event> events, TimeSpan cooldown)
    {
        for (var i = 1; i < events.Count; i++)
            Assert.True(events[i].LastSeen - events[i - 1].LastSeen >= cooldown, $"{events[i].Message} came {events[i].LastSeen - events[i - 1].LastSeen} after the previous step");
    }

    protected async Task Nodes(string pool, params string[] names)
    {
        foreach (var name in names)
        {
            using var r = await Http.Post("/api/v1/nodes", Requests.Node(name, cpu: "4", labels: new Dictionary<string, string> { ["pool"] = pool }));
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
    }

    protected async Task CreateWorkload(string name, int replicas, string pool, string? image = null, object? autoscale = null)
    {
        using var r = await Http.Post("/api/v1/workloads", new
        {
            name, replicas, autoscale,
            template = new { requests = Cpu("1"), image, nodeSelector = new Dictionary<string, string> { ["pool"] = pool } },
        });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }

    protected static Dictionary<string, string> Cpu(string cpu) => new() { ["cpu"] = cpu, ["memory"] = "256Mi" };

    protected Task<JsonElement> WaitForWorkload(string name, Func<JsonElement, bool> condition, int timeoutSeconds = 20) =>
        Http.WaitFor($"/api/v1/workloads/{name}", condition, timeoutSeconds);

    protected static int Ready(JsonElement workload) => workload.GetProperty("readyReplicas").GetInt32();

    protected static List<(string Name, string Phase, string? Node)> PodsOf(JsonElement workload) =>
        workload.GetProperty("pods").EnumerateArray().Select(p => (p.GetProperty("name").GetString()!, p.Phase(),
            p.TryGetProperty("nodeName", out var n) ? n.GetString() : null)).ToList();
}

/// <summary>Posts a CPU reading for each node every 200 ms, like node agents, until silenced or disposed.</summary>
internal sealed class TelemetryPump : IDisposable
{
    private readonly HashSet<string> _silenced = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private readonly string[] _nodes;

    public TelemetryPump(HttpClient http, params string[] nodes)
    {
        _nodes = nodes;
        _loop = Task.Run(() => Pump(http, nodes));
    }

    private async Task Pump(HttpClient http, string[] nodes)
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var node in nodes)
            {
                bool silent;
                lock (_silenced) silent = _silenced.Contains(node);
                if (silent) continue;
                var cpu = Cpu;
                using var answer = await http.Post($"/api/v1/nodes/{node}/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = cpu } });
                if (answer.IsSuccessStatusCode)
                    lock (_delivered) _delivered[cpu] = _delivered.GetValueOrDefault(cpu) + 1;
                else
                {
                    var refused = $"{(int)answer.StatusCode} for cpu {cpu} on {node}: {await answer.Content.ReadAsStringAsync()}";
                    lock (_delivered) { _refusals++; _lastRefusal = refused; }
                }
            }
            await Task.Delay(200);
        }
    }

    public double Cpu { get; set; } = 0.3;

    // Readings the silo answered, by value: a starved pump posts less often than the test changes Cpu, and a test that
    // alternates readings on a clock can see every post land on the same value.
    private readonly Dictionary<double, int> _delivered = [];

    // Posts the silo refused (a 404 for an unknown node, a 503 from a dead silo's node grain): not readings it took.
    private int _refusals;
    private string? _lastRefusal;

    /// <summary>
    /// Sets <see cref="Cpu"/> and waits, for at most <paramref name="timeoutSeconds"/>, until the silo has answered a post
    /// of it for every node not silenced: the posts go round the nodes in turn, so any that many in a row cover each once.
    /// Only a success counts; a post the silo refuses meanwhile, or the pump's failure, fails at once with its answer.
    /// </summary>
    public async Task Deliver(double cpu, int timeoutSeconds = 20)
    {
        int Count() { lock (_delivered) return _delivered.GetValueOrDefault(cpu); }
        int refusalsBefore;
        lock (_delivered) refusalsBefore = _refusals;
        var before = Count();
        Cpu = cpu;
        int nodes;
        lock (_silenced) nodes = _nodes.Length - _silenced.Count;
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (Count() < before + nodes)
        {
            lock (_delivered) Assert.True(_refusals == refusalsBefore, $"the silo refused a reading: {_lastRefusal}");
            if (_loop.IsFaulted) await _loop;
            Assert.True(DateTime.UtcNow < deadline, $"no reading of cpu {cpu} reached the silo within {timeoutSeconds} s");
            await Task.Delay(50);
        }
    }

    public void Silence(string node) { lock (_silenced) _silenced.Add(node); }

    public void Resume(string node) { lock (_silenced) _silenced.Remove(node); }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
