using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A manual training round (POST /api/v1/learning/{algorithm}/train) that fails is logged once, with its stack, by the
/// problem handler that answers it: the learning grain logged it as well, so each failure was two Errors with one stack.
/// </summary>
public sealed class ManualTrainingFailureTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    [Fact]
    public async Task A_manual_round_whose_version_cannot_be_stored_is_logged_once()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string>
        {
            ["Learning:Online:SyncIntervalSeconds"] = "0.2",
            ["Learning:Online:FlushIntervalMilliseconds"] = "100",
            ["Learning:Online:TrainIntervalSeconds"] = "3600",
        }, expectedLog: [.. RedisOutageTests.WhileRedisIsDown, "Unhandled exception for POST /api/v1/learning/ddqn/train", "online training round",
            "Error from storage provider .* during WriteStateAsync for grain mas-learning/ddqn"]);
        var http = silo.Http;
        await http.WaitFor("/api/v1/learning/ddqn", s => s.GetProperty("loadedVersion").GetInt32() == 1, 30);
        // Two GPU nodes, so the learned policy scores (one feasible node skips it) and its decisions become experience.
        foreach (var node in new[] { "mt-a", "mt-b" })
            Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", Requests.Node(node, cpu: "16", memory: "64Gi", gpus: "4"))).StatusCode);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod($"mt-{i}", cpu: "1", gpu: "1", policy: "ddqn"))).StatusCode);
        await http.WaitFor("/api/v1/learning/ddqn", s => s.GetProperty("pendingTransitions").GetInt32() >= 1, 30);
        // Running first: a pod whose container start is still to be written would log its failed write in the outage.
        for (var i = 0; i < 3; i++) await http.WaitFor($"/api/v1/pods/mt-{i}", p => p.Phase() == "Running");

        _redis.Crash();
        using (var failed = await http.PostAsync("/api/v1/learning/ddqn/train", null))
        {
            Assert.True((int)failed.StatusCode >= 500, $"{(int)failed.StatusCode} {await failed.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", failed.Content.Headers.ContentType?.MediaType);
        }
        _redis.Restart();

        var logged = silo.Log.Records.Where(r => r.Message.Contains("online training round", StringComparison.Ordinal)
            || r.Message.Contains("/api/v1/learning/ddqn/train", StringComparison.Ordinal)).ToList();
        Assert.True(logged.Count == 1, string.Join("\n", logged));
        Assert.NotNull(logged[0].Exception);
    }
}
