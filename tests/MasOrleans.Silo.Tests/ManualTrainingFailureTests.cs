using System.Net;
using System.Net.Http.Json;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A manual training round (POST /api/v1/learning/{algorithm}/train) that fails is logged once, with its stack, by the
/// learning grain, and answered as an outage (503, Retry-After) when its version could not be stored. The problem handler
/// logged it instead: a round failing during an outage it had already answered a 503 for was one line without the
/// stack (and a round outliving the call's timeout was logged by no one, a FormatException answered 400 unlogged).
/// </summary>
public sealed class ManualTrainingFailureTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>A silo whose ddqn learning grain holds experience to train on, its background trainer idle.</summary>
    private async Task<SiloHost> SiloWithExperience()
    {
        var silo = await SiloHost.StartAsync(_redis.ConnectionString, new Dictionary<string, string>
        {
            ["Learning:Online:SyncIntervalSeconds"] = "0.2",
            ["Learning:Online:FlushIntervalMilliseconds"] = "100",
            ["Learning:Online:TrainIntervalSeconds"] = "3600",
        }, expectedLog: [.. RedisOutageTests.WhileRedisIsDown, "online training round", "Error from storage provider .* during WriteStateAsync for grain mas-learning/ddqn"]);
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
        return silo;
    }

    /// <summary>The round is answered 503 as every outage is, and logged once, as an Error with its exception.</summary>
    private static async Task TrainIsUnavailableAndLoggedOnce(SiloHost silo)
    {
        using (var failed = await silo.Http.PostAsync("/api/v1/learning/ddqn/train", null))
        {
            Assert.True(failed.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)failed.StatusCode} {await failed.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", failed.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(1), failed.Headers.RetryAfter?.Delta);
        }
        var logged = silo.Log.Records.Where(r => r.Message.Contains("online training round", StringComparison.Ordinal)
            || r.Message.Contains("/api/v1/learning/ddqn/train", StringComparison.Ordinal)).ToList();
        Assert.True(logged.Count == 1, string.Join("\n", logged));
        Assert.Equal(LogLevel.Error, logged[0].Level);
        Assert.NotNull(logged[0].Exception);
    }

    [Fact]
    public async Task A_manual_round_whose_version_cannot_be_stored_is_logged_once()
    {
        await using var silo = await SiloWithExperience();

        _redis.Crash();
        await TrainIsUnavailableAndLoggedOnce(silo);
        _redis.Restart();
    }

    /// <summary>An outage the problem handler already answered a 503 for (with its stack), then the round fails in it.</summary>
    [Fact]
    public async Task A_manual_round_failing_during_an_outage_already_answered_503_is_logged_with_its_stack()
    {
        await using var silo = await SiloWithExperience();

        _redis.Crash();
        using (var refused = await silo.Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "fgd" }))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        await TrainIsUnavailableAndLoggedOnce(silo);
        _redis.Restart();
    }
}
