using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Storage;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests;

/// <summary>Liveness and readiness over real HTTP against a real redis-server that the test stops, kills and starts again.</summary>
public sealed class HealthTests : IDisposable
{
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose()
    {
        Signals.Send(_redis.Pid, SigCont);
        _redis.Dispose();
    }

    /// <summary>What the silo logs while its Redis is down (<see cref="RedisDownLog"/>) and its failed readiness checks.</summary>
    private static readonly string[] WhileRedisIsDown =
    [
        .. RedisDownLog.Patterns,
        "^Microsoft\\.Extensions\\.Diagnostics\\.HealthChecks\\.DefaultHealthCheckService$",
    ];

    /// <summary>
    /// /health answered 200 while Redis was down (it asked only the cluster index, which answers from memory), so a
    /// readiness probe kept sending traffic to a silo that could persist nothing.
    /// </summary>
    [Fact]
    public async Task Readiness_fails_with_the_reason_while_redis_is_down_and_liveness_stays_up()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, expectedLog: WhileRedisIsDown);
        await AssertReady(silo.Http, SiloHealth.Path);
        await AssertReady(silo.Http, SiloHealth.ReadyPath);
        Assert.Equal(0, await RunComposeHealthcheck(silo.Http.BaseAddress!.Port));

        // Killed by its pid: the connection drops and the client reconnects in the background.
        _redis.Crash();
        var down = await WaitForStatus(silo.Http, SiloHealth.Path, HttpStatusCode.ServiceUnavailable);
        AssertRedisUnhealthy(down);
        AssertRedisUnhealthy(await WaitForStatus(silo.Http, SiloHealth.ReadyPath, HttpStatusCode.ServiceUnavailable));
        await AssertLive(silo.Http);
        Assert.NotEqual(0, await RunComposeHealthcheck(silo.Http.BaseAddress!.Port));

        _redis.Restart();
        await WaitForStatus(silo.Http, SiloHealth.ReadyPath, HttpStatusCode.OK, timeoutSeconds: 30);
        await AssertReady(silo.Http, SiloHealth.Path);
        await AssertLive(silo.Http);
    }

    /// <summary>A Redis that keeps its connections but answers nothing (stopped by SIGSTOP): the check is bounded, not the client's timeout.</summary>
    [Fact]
    public async Task A_redis_that_does_not_answer_fails_readiness_within_the_check_bound()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, expectedLog: WhileRedisIsDown);
        await AssertReady(silo.Http, SiloHealth.ReadyPath);

        Assert.True(Signals.Send(_redis.Pid, SigStop), "SIGSTOP to redis-server was not sent");
        try
        {
            using var response = await silo.Http.GetAsync(SiloHealth.ReadyPath);
            var report = await Report(response);
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {report}");
            AssertRedisUnhealthy(report);
            // Answered by the check's own bound (2 s), not by the Redis client's timeout (5 s) that an unbounded PING waits
            // out, which would read "Redis PING failed: Timeout performing PING ...".
            Assert.Equal("Redis PING did not answer within 2 s", report.GetProperty("checks").GetProperty("redis").GetProperty("description").GetString());
            // Liveness asks nothing, Redis least of all.
            Assert.Empty((await AssertLive(silo.Http)).GetProperty("checks").EnumerateObject());
        }
        finally
        {
            Signals.Send(_redis.Pid, SigCont);
        }
        await WaitForStatus(silo.Http, SiloHealth.ReadyPath, HttpStatusCode.OK, timeoutSeconds: 30);
    }

    /// <summary>
    /// A Redis frozen while requests write: the Redis client later cancels what waited on the connection it gave up on
    /// (a TaskCanceledException, neither a RedisException nor a TimeoutException; by hand about 20 s into the freeze).
    /// The data-loss watch threw it and the host stopped the silo as for a failed BackgroundService (Host event 9, then
    /// the critical event 10), and a request that met it was a 500. The client may instead fail the waiting call with its
    /// pipe's InvalidOperationException as it drops the connection, which the watch also rides out. Writes go on for
    /// <see cref="PastGivingUp"/> and until the watch has said it rode a failed check out (its Information record, event
    /// 2007, once for each kind of failure), and a few after: each one is a 503, and the silo is fine.
    /// </summary>
    [Fact]
    public async Task A_silo_rides_out_a_frozen_redis_while_requests_write()
    {
        var watch = typeof(RedisDataLossWatch).FullName!;
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString,
            settings: new Dictionary<string, string> { [$"Logging:LogLevel:{watch}"] = "Information" },
            expectedLog:
            [
                .. WhileRedisIsDown,
                "(Unhandled exception|Answered 503) for POST /api/v1/(pods|nodes)",
                // Orleans' records of the pods and nodes written that could not activate: their state was not read.
                "^Lifecycle start canceled due to errors at stage 'SetupState",
                "^(Error starting lifecycle for activation '|Error activating grain )\\[Activation: [^ ]+/mas-(pod/frozen-write|node/frozen-node)-\\d+@",
                // The model sync (ModelSyncService, each Learning__SyncIntervalSeconds) asks the learning grains, which
                // cannot read their state either: the writes span the client's giving up, long enough for a sync to come.
                "^(Error starting lifecycle for activation '|Error activating grain )\\[Activation: [^ ]+/mas-learning/",
                // Or read its state just before the freeze and could not store its base version on activation (a
                // fresh-clone run at load 20).
                "^Error thrown from OnActivateAsync for activation '\\[Activation: [^ ]+/mas-learning/",
                "^(ddqn|ppo): model sync failed$",
            ],
            logMinimum: LogLevel.Information);
        await AssertReady(silo.Http, SiloHealth.ReadyPath);

        Assert.True(Signals.Send(_redis.Pid, SigStop), "SIGSTOP to redis-server was not sent");
        try
        {
            var answers = new List<string>();
            var stopped = DateTime.UtcNow;
            var deadline = stopped.AddSeconds(90);
            var afterRiddenOut = 0;
            for (var i = 0; afterRiddenOut < 3 || DateTime.UtcNow < stopped + PastGivingUp; i++)
            {
                if (silo.Log.Records.Any(r => r.Category == watch && r.Level == LogLevel.Information)) afterRiddenOut++;
                else Assert.True(DateTime.UtcNow < deadline, $"the watch's check did not fail within 90 s of writes: {string.Join(", ", answers)}");
                using var refused = i % 2 == 0
                    ? await silo.Http.Post("/api/v1/pods", Requests.Pod($"frozen-write-{i}"))
                    : await silo.Http.Post("/api/v1/nodes", Requests.Node($"frozen-node-{i}"));
                answers.Add($"{refused.RequestMessage!.RequestUri!.AbsolutePath} {(int)refused.StatusCode}");
                Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{string.Join(", ", answers)}: {await refused.Content.ReadAsStringAsync()}");
            }
            var unexpected = silo.Log.Unexpected();
            Assert.True(unexpected.Count == 0, SiloLog.Describe(unexpected, silo.Log.Records));
        }
        finally
        {
            Signals.Send(_redis.Pid, SigCont);
        }
        await WaitForStatus(silo.Http, SiloHealth.ReadyPath, HttpStatusCode.OK, timeoutSeconds: 30);
        // It still writes: the silo came through, not just its readiness answer.
        using (var made = await silo.Http.Post("/api/v1/pods", Requests.Pod("after-the-freeze")))
            Assert.Equal(HttpStatusCode.Accepted, made.StatusCode);
    }

    /// <summary>
    /// A queue shard reads its pods' stored states as it activates, and until it answers, a pod list or /api/v1/cluster
    /// is a 503 and an Error 2001. At a restart with 20,000 pods /health/ready said Ready about 3 s before the shards
    /// could answer (session 42). Here their read is held until the test lets it go: readiness waits for it.
    /// </summary>
    [Fact]
    public async Task Readiness_waits_until_the_queue_shards_have_read_their_pods()
    {
        var directory = new HeldPodDirectory();
        await using var silo = await SiloHost.StartAsync(expectedLog: ["^Microsoft\\.Extensions\\.Diagnostics\\.HealthChecks\\.DefaultHealthCheckService$"],
            configure: builder => builder.Services.AddSingleton<IPodDirectory>(directory));
        await directory.Asked.WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            // Everything else is ready (memory storage: no Redis to ask); only the shards' read holds readiness back.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpStatusCode status;
            JsonElement report;
            do
            {
                using var response = await silo.Http.GetAsync(SiloHealth.ReadyPath);
                (status, report) = (response.StatusCode, await Report(response));
                if (Healthy(report, "cluster-membership") && Healthy(report, "cluster-index")) break;
                await Task.Delay(200);
            }
            while (DateTime.UtcNow < deadline);
            Assert.True(status == HttpStatusCode.ServiceUnavailable, $"ready while the queue shards had not read their pods: {(int)status} {report}");
            var shards = report.GetProperty("checks").GetProperty("queue-shards");
            Assert.Equal("Unhealthy", shards.GetProperty("status").GetString());
            Assert.Equal("the queue shards did not answer within 2 s", shards.GetProperty("description").GetString());
        }
        finally
        {
            directory.Release();
        }
        var ready = await WaitForStatus(silo.Http, SiloHealth.ReadyPath, HttpStatusCode.OK, timeoutSeconds: 60);
        Assert.Equal("the 8 queue shards have answered", ready.GetProperty("checks").GetProperty("queue-shards").GetProperty("description").GetString());
    }

    /// <summary>
    /// The default-policy check asked the cluster index for the default on every probe: a second source beside the
    /// silo's view, by which POST /api/v1/pods judges a pod naming no policy, and a second call beside the cluster-index
    /// check's. With the index not answering (its calls time out, as Orleans' response timeout does when the index's
    /// silo hangs), the check said "the cluster's default policy did not answer" while POST accepted a pod naming no
    /// policy by the view's default. Now it judges by the view too: the index's silence is the cluster-index check's alone.
    /// </summary>
    [Fact]
    public async Task The_default_policy_check_judges_by_the_silos_view_as_pod_creation_does()
    {
        var index = new SilentDefaultPolicyAnswer();
        await using var silo = await SiloHost.StartAsync(expectedLog: ["^Health check cluster-index with status Unhealthy"],
            configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(index));
        await WaitForStatus(silo.Http, SiloHealth.ReadyPath, HttpStatusCode.OK, timeoutSeconds: 60);
        // Ready does not wait for the view, and before it has started the check asks the index: a listing of nodes awaits
        // the view (SiloClusterView.ListNodes), so the check below reads the view's default. GET /api/v1/cluster would not:
        // it asks the index.
        using (var nodes = await silo.Http.GetAsync("/api/v1/nodes"))
            Assert.Equal(HttpStatusCode.OK, nodes.StatusCode);
        index.Silent = true;
        using (var response = await silo.Http.GetAsync(SiloHealth.ReadyPath))
        {
            var report = await Report(response);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var cluster = report.GetProperty("checks").GetProperty("cluster-index");
            Assert.Equal("the cluster index did not answer within 2 s", cluster.GetProperty("description").GetString());
            var policy = report.GetProperty("checks").GetProperty("default-policy");
            Assert.True(policy.GetProperty("status").GetString() == "Healthy", $"default-policy: {policy}");
            Assert.Equal("default policy kube decides on this silo", policy.GetProperty("description").GetString());
        }
        // The same source: a pod naming no policy is accepted by the default the check named.
        using (var created = await silo.Http.Post("/api/v1/pods", Requests.Pod("health-view-default")))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
    }

    /// <summary>Once <see cref="Silent"/>, every call to the cluster index's GetDefaultPolicy times out.</summary>
    private sealed class SilentDefaultPolicyAnswer : IOutgoingGrainCallFilter
    {
        public volatile bool Silent;

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (Silent && context.InterfaceMethod is { } method && method.DeclaringType == typeof(IClusterIndexGrain) && method.Name == nameof(IClusterIndexGrain.GetDefaultPolicy))
                throw new TimeoutException("the cluster index did not answer (test)");
            return context.Invoke();
        }
    }

    private static bool Healthy(JsonElement report, string check) =>
        report.GetProperty("checks").TryGetProperty(check, out var c) && c.GetProperty("status").GetString() == "Healthy";

    [Fact]
    public async Task A_memory_silo_is_ready_without_redis()
    {
        await using var silo = await SiloHost.StartAsync();
        var report = await AssertReady(silo.Http, SiloHealth.ReadyPath);
        Assert.Equal("no Redis: Storage__Provider is memory", report.GetProperty("checks").GetProperty("redis").GetProperty("description").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("cluster-membership").GetProperty("status").GetString());
        await AssertLive(silo.Http);
    }

    private static async Task<JsonElement> AssertReady(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var report = await Report(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {report}");
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal(["cluster-index", "cluster-membership", "default-policy", "queue-shards", "redis"], report.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
        return report;
    }

    private static async Task<JsonElement> AssertLive(HttpClient http)
    {
        using var response = await http.GetAsync(SiloHealth.LivePath);
        var report = await Report(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{SiloHealth.LivePath}: {(int)response.StatusCode} {report}");
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        return report;
    }

    private static void AssertRedisUnhealthy(JsonElement report)
    {
        Assert.Equal("Unhealthy", report.GetProperty("status").GetString());
        var redis = report.GetProperty("checks").GetProperty("redis");
        Assert.Equal("Unhealthy", redis.GetProperty("status").GetString());
        Assert.StartsWith("Redis PING ", redis.GetProperty("description").GetString());
        // The rest of the silo still serves: the report says which part failed.
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("cluster-membership").GetProperty("status").GetString());
    }

    private static async Task<JsonElement> WaitForStatus(HttpClient http, string path, HttpStatusCode status, int timeoutSeconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            using var response = await http.GetAsync(path);
            var report = await Report(response);
            if (response.StatusCode == status) return report;
            Assert.True(DateTime.UtcNow < deadline, $"{path} still {(int)response.StatusCode} after {timeoutSeconds} s, expected {(int)status}: {report}");
            await Task.Delay(200);
        }
    }

    /// <summary>deploy/docker-compose.yml's silo healthcheck, run by the real bash against <paramref name="port"/> instead of the container's 8080.</summary>
    private static async Task<int> RunComposeHealthcheck(int port)
    {
        var script = DeployFilesTests.ComposeHealthcheck("silo1").Replace("/dev/tcp/127.0.0.1/8080 ", $"/dev/tcp/127.0.0.1/{port} ", StringComparison.Ordinal);
        Assert.Contains($"/dev/tcp/127.0.0.1/{port} ", script);
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        using var bash = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await bash.WaitForExitAsync(timeout.Token);
        return bash.ExitCode;
    }

    private static async Task<JsonElement> Report(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>
    /// Past the moment the Redis client gives up a connection that has read nothing for four of its 5 s timeouts while a
    /// call timed out (StackExchange.Redis' PhysicalBridge heartbeat), with room for a loaded machine: whether and when it
    /// does is the client's, so the writes span it rather than wait for it.
    /// </summary>
    private static readonly TimeSpan PastGivingUp = TimeSpan.FromSeconds(35);
}
