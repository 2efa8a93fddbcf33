using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The learning metrics are the process's (static meters, every in-process silo's exporter sees every silo's records):
/// a silo of another test starting meanwhile recorded its own ddqn model version 1 over these silos' 2 (a fresh-clone
/// run's failure). These tests run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMetersCollection
{
    public const string Name = "process meters";
}

/// <summary>
/// Online learning end to end on a real redis-server: live ddqn/ppo decisions reach the trainer, a round makes a new
/// version that every silo switches to, an operator rolls back or switches learning off, and all of it survives a restart.
/// </summary>
[Collection(ProcessMetersCollection.Name)]
public sealed class OnlineLearningTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    /// <summary>Quick sync and flush; the background trainer only runs when a test asks for it.</summary>
    private static Dictionary<string, string> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["Learning:Online:SyncIntervalSeconds"] = "0.2",
            ["Learning:Online:FlushIntervalMilliseconds"] = "100",
            ["Learning:Online:TrainIntervalSeconds"] = "3600",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    private static async Task PlacePods(HttpClient http, string prefix, string policy, int count, bool addNodes = true)
    {
        if (addNodes)
            for (var n = 0; n < 4; n++)
                Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/nodes", Requests.Node($"{prefix}-node-{n}", cpu: "32", memory: "128Gi", gpus: "4"))).StatusCode);
        for (var i = 0; i < count; i++)
        {
            var response = await http.Post("/api/v1/pods", Requests.Pod($"{prefix}-{policy}-{i}", cpu: "2", gpu: i % 3 == 0 ? "500m" : "1", policy: policy));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        for (var i = 0; i < count; i++)
            await http.WaitFor($"/api/v1/pods/{prefix}-{policy}-{i}", p => p.TryGetProperty("nodeName", out _), 60);
    }

    /// <summary>Waits until at least <paramref name="atLeast"/> transitions are pending and no more arrive for a second.</summary>
    private static async Task WaitForSettledTransitions(HttpClient http, string algorithm, int atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var (last, same) = (-1, 0);
        while (same < 4)
        {
            var status = await http.WaitFor($"/api/v1/learning/{algorithm}", s => s.GetProperty("pendingTransitions").GetInt32() >= atLeast, 30);
            var pending = status.GetProperty("pendingTransitions").GetInt32();
            (last, same) = (pending, pending == last ? same + 1 : 0);
            Assert.True(DateTime.UtcNow < deadline, $"transitions kept arriving for 30 s (last {last})");
            await Task.Delay(250);
        }
    }

    private static Task<JsonElement> WaitForLoaded(HttpClient http, string algorithm, int version) =>
        http.WaitFor($"/api/v1/learning/{algorithm}", s => s.GetProperty("loadedVersion").GetInt32() == version, 30);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpClient http, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = System.Net.Http.Json.JsonContent.Create(body);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Json());
    }

    /// <summary>Scrapes until the condition holds (the exporter caches scrapes briefly), failing with the learning lines seen.</summary>
    private static async Task WaitForMetrics(HttpClient http, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var metrics = await PrometheusText.Scrape(http);
            if (condition(metrics)) return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail("metrics never matched:\n" + string.Join("\n", metrics.Split('\n').Where(l => l.Contains("ddqn") && !l.Contains("_bucket"))));
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Returns once the silo's experience flush has sent everything decided before this call: ddqn decisions made now
    /// (learning on) reach the ddqn trainer in a flush, and the one after the flush that brought the first transition drains
    /// every algorithm's queue after whatever was decided before (one flush at a time, each sending every queue).
    /// </summary>
    private static async Task WaitForAFlushAfter(HttpClient http, string prefix)
    {
        async Task Decide(string name)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await http.Post("/api/v1/pods", Requests.Pod(name, cpu: "1", policy: "ddqn"))).StatusCode);
            await http.WaitFor($"/api/v1/pods/{name}", p => p.TryGetProperty("nodeName", out _), 60);
        }
        var before = (await http.GetJson("/api/v1/learning/ddqn")).GetProperty("experienceReceived").GetInt64();
        // Two decisions make a transition (a decision is sent with its successor); the third makes another, which a later
        // flush than the one seen first sends.
        await Decide($"{prefix}-probe-0");
        await Decide($"{prefix}-probe-1");
        var first = await http.WaitFor("/api/v1/learning/ddqn", s => s.GetProperty("experienceReceived").GetInt64() > before, 30);
        await Decide($"{prefix}-probe-2");
        var seen = first.GetProperty("experienceReceived").GetInt64();
        await http.WaitFor("/api/v1/learning/ddqn", s => s.GetProperty("experienceReceived").GetInt64() > seen, 30);
    }

    [Fact]
    public async Task Live_decisions_train_a_version_every_silo_decides_with_and_rollback_brings_the_previous_one_back()
    {
        var clusterId = $"learn-{Guid.NewGuid():N}";
        var settings = Settings(("Learning:Online:KeepVersions", "2"));
        await using var first = await SiloHost.StartAsync(_redis.ConnectionString, settings, clusterId);
        await using var second = await SiloHost.StartAsync(_redis.ConnectionString, settings, clusterId);
        first.Log.ExpectSiblingStopped();
        await WaitForLoaded(first.Http, "ddqn", 1);
        await WaitForLoaded(second.Http, "ddqn", 1);

        await PlacePods(first.Http, "learn", "ddqn", 16);
        // Every bound pod's decision is on its way (batched per silo): wait until they have all arrived, so the round
        // below consumes all of them and leaves nothing pending.
        await WaitForSettledTransitions(first.Http, "ddqn", atLeast: 12);

        var (status, trained) = await Send(first.Http, HttpMethod.Post, "/api/v1/learning/ddqn/train");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, trained.GetProperty("activeVersion").GetInt32());
        var versions = trained.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal(["base", "online"], versions.Select(v => v.GetProperty("source").GetString()));
        Assert.Equal(1, versions[1].GetProperty("parentVersion").GetInt32());
        Assert.True(versions[1].GetProperty("transitions").GetInt32() >= 12, trained.ToString());
        Assert.NotEqual(versions[0].GetProperty("digest").GetString(), versions[1].GetProperty("digest").GetString());
        Assert.Equal("trained", trained.GetProperty("lastRound").GetProperty("result").GetString());
        // Every transition received went into the round or is still pending: a batch flushed by a starved silo can land
        // while the round trains (the grain is reentrant), so "none pending" would be a race, but none may be lost or
        // counted twice.
        Assert.Equal(trained.GetProperty("experienceReceived").GetInt64(),
            versions[1].GetProperty("transitions").GetInt32() + trained.GetProperty("pendingTransitions").GetInt32());

        // Both silos converge on the new version; the decisions were measured on the way.
        await WaitForLoaded(first.Http, "ddqn", 2);
        await WaitForLoaded(second.Http, "ddqn", 2);
        await WaitForMetrics(first.Http, metrics =>
            PrometheusText.Value(metrics, "mas_model_inference_latency_seconds_count", "algo=\"ddqn\"") >= 12 // one per inference (a re-delivered pod that already holds its node needs none)
            && PrometheusText.Value(metrics, "mas_learning_experience_total", "algo=\"ddqn\"", "outcome=\"sent\"") >= 12
            && PrometheusText.Value(metrics, "mas_learning_model_version", "algo=\"ddqn\"") == 2);

        // New decisions run on version 2 and still place pods.
        await PlacePods(second.Http, "after", "ddqn", 4);

        // An operator rolls back through the other silo; every silo follows.
        var (rolledStatus, rolled) = await Send(second.Http, HttpMethod.Post, "/api/v1/learning/ddqn/rollback");
        Assert.Equal(HttpStatusCode.OK, rolledStatus);
        Assert.Equal(1, rolled.GetProperty("activeVersion").GetInt32());
        await WaitForLoaded(first.Http, "ddqn", 1);
        await WaitForLoaded(second.Http, "ddqn", 1);

        var (olderStatus, older) = await Send(first.Http, HttpMethod.Post, "/api/v1/learning/ddqn/rollback");
        Assert.Equal(HttpStatusCode.Conflict, olderStatus);
        Assert.Contains("nothing to roll back to", older.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Send(first.Http, HttpMethod.Post, "/api/v1/learning/ddqn/rollback", new { version = 42 })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(first.Http, HttpMethod.Post, "/api/v1/learning/ddqn/rollback", new { version = 0 })).Status);

        // Rolling forward is a rollback to a named version.
        var (forwardStatus, forward) = await Send(first.Http, HttpMethod.Post, "/api/v1/learning/ddqn/rollback", new { version = 2 });
        Assert.Equal(HttpStatusCode.OK, forwardStatus);
        Assert.Equal(2, forward.GetProperty("activeVersion").GetInt32());
        await WaitForLoaded(second.Http, "ddqn", 2);

        // The next round trains from version 2; with KeepVersions 2 the base version is then pruned.
        await PlacePods(first.Http, "more", "ddqn", 6);
        await first.Http.WaitFor("/api/v1/learning/ddqn", s => s.GetProperty("pendingTransitions").GetInt32() >= 4, 30);
        var (thirdStatus, third) = await Send(second.Http, HttpMethod.Post, "/api/v1/learning/ddqn/train");
        Assert.Equal(HttpStatusCode.OK, thirdStatus);
        Assert.Equal(3, third.GetProperty("activeVersion").GetInt32());
        Assert.Equal([2, 3], third.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal(2, third.GetProperty("versions")[1].GetProperty("parentVersion").GetInt32());
        var (prunedStatus, pruned) = await Send(first.Http, HttpMethod.Post, "/api/v1/learning/ddqn/rollback", new { version = 1 });
        Assert.Equal(HttpStatusCode.NotFound, prunedStatus);
        Assert.Contains("not kept", pruned.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_background_trainer_learns_on_its_own_and_the_switch_and_versions_survive_a_restart()
    {
        int active;
        string[] digests;
        await using (var silo = await SiloHost.StartAsync(_redis.ConnectionString,
            Settings(("Learning:Online:MinExperiences", "6"), ("Learning:Online:TrainIntervalSeconds", "0.5"))))
        {
            var http = silo.Http;
            await PlacePods(http, "auto", "ppo", 10);
            var trained = await http.WaitFor("/api/v1/learning/ppo", s => s.GetProperty("activeVersion").GetInt32() >= 2, 60);
            Assert.Equal("online", trained.GetProperty("versions").EnumerateArray().Last().GetProperty("source").GetString());

            var (offStatus, off) = await Send(http, HttpMethod.Put, "/api/v1/learning/ppo/online", new { enabled = false });
            Assert.Equal(HttpStatusCode.OK, offStatus);
            Assert.False(off.GetProperty("onlineEnabled").GetBoolean());
            // A round the trainer began before the switch may still finish: the state compared below is the one after it.
            var switchedOff = await http.WaitFor("/api/v1/learning/ppo", s => !s.GetProperty("onlineEnabled").GetBoolean()
                && s.GetProperty("pendingTransitions").GetInt32() == 0 && !s.GetProperty("training").GetBoolean());
            active = switchedOff.GetProperty("activeVersion").GetInt32();

            // Switched off: decisions go on, nothing is kept, nothing is trained. Kept, the 8 decisions would be counted as
            // received once a flush sent them (training them would not undo that), so the check waits for a flush after them.
            await PlacePods(http, "quiet", "ppo", 8);
            await WaitForAFlushAfter(http, "quiet");
            var quiet = await http.GetJson("/api/v1/learning/ppo");
            Assert.Equal(switchedOff.GetProperty("experienceReceived").GetInt64(), quiet.GetProperty("experienceReceived").GetInt64());
            Assert.Equal(0, quiet.GetProperty("pendingTransitions").GetInt32());
            Assert.False(quiet.GetProperty("training").GetBoolean());
            Assert.Equal(switchedOff.GetProperty("lastRound").ToString(), quiet.GetProperty("lastRound").ToString());
            Assert.Equal(active, quiet.GetProperty("activeVersion").GetInt32());
            var (trainStatus, refused) = await Send(http, HttpMethod.Post, "/api/v1/learning/ppo/train");
            Assert.Equal(HttpStatusCode.Conflict, trainStatus);
            Assert.Contains("switched off", refused.GetProperty("detail").GetString());

            // Bad input is a problem response, not a 500.
            var (badStatus, bad) = await Send(http, HttpMethod.Put, "/api/v1/learning/ppo/online", new { });
            Assert.Equal(HttpStatusCode.BadRequest, badStatus);
            Assert.Contains("enabled", bad.GetProperty("detail").GetString());
            Assert.Equal(HttpStatusCode.NotFound, (await Send(http, HttpMethod.Get, "/api/v1/learning/astrology")).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await Send(http, HttpMethod.Post, "/api/v1/learning/kube/train")).Status);
            digests = quiet.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("digest").GetString()!).ToArray();
        }

        await using var again = await SiloHost.StartAsync(_redis.ConnectionString, Settings());
        var restored = await WaitForLoaded(again.Http, "ppo", active);
        Assert.Equal(active, restored.GetProperty("activeVersion").GetInt32());
        Assert.False(restored.GetProperty("onlineEnabled").GetBoolean());
        Assert.Equal(digests, restored.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("digest").GetString()!));
        var list = await again.Http.GetJson("/api/v1/learning");
        Assert.Equal(["ddqn", "ppo"], list.EnumerateArray().Select(s => s.GetProperty("algorithm").GetString()));
    }

    /// <summary>
    /// The silo that answers `PUT .../online` keeps or drops its decisions as the answer says from then on: it followed the
    /// switch only at its next sync (SyncIntervalSeconds), so decisions placed right after switching learning on were dropped
    /// as off. The sync here is hourly, so only the switch itself can have changed what this silo keeps.
    /// </summary>
    [Fact]
    public async Task Learning_switched_on_keeps_the_answering_silo_s_next_decisions()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString,
            Settings(("Learning:Online:Enabled", "false"), ("Learning:Online:SyncIntervalSeconds", "3600")));
        var http = silo.Http;
        await WaitForLoaded(http, "ddqn", 1); // the start's sync, the last one within the test
        var (onStatus, on) = await Send(http, HttpMethod.Put, "/api/v1/learning/ddqn/online", new { enabled = true });
        Assert.Equal(HttpStatusCode.OK, onStatus);
        Assert.True(on.GetProperty("onlineEnabled").GetBoolean());

        // Three decisions, two transitions (the last waits for its successor).
        await PlacePods(http, "switched", "ddqn", 3);
        await WaitForSettledTransitions(http, "ddqn", 2);
        Assert.Equal(2, (await http.GetJson("/api/v1/learning/ddqn")).GetProperty("pendingTransitions").GetInt32());
    }

    /// <summary>
    /// Silos of two images (an upgrade under way) share one trainer, which adopts each base model once: the newer base
    /// when a silo shipping it first hosts the trainer, and nothing when a silo of the older image hosts it again. The
    /// older silo used to make its base the active version again, dropping the newer base and what was trained from it.
    /// </summary>
    [Fact]
    public async Task A_base_model_is_adopted_once_whichever_silo_hosts_the_trainer()
    {
        // A silo's model sync that asks the trainer on a silo stopping gets "is shutting down" and tries at its next tick.
        const string trainerStopping = SiloLog.SiblingStopped + "|^Silo '[^']+' is shutting down";
        var clusterId = $"images-{Guid.NewGuid():N}";
        var newer = Directory.CreateTempSubdirectory("mas-models-").FullName;
        try
        {
            // The newer image's ddqn: the same network, other metadata, so another digest.
            var ddqn = RepoFiles.CopyModel("ddqn", Path.Combine(newer, "ddqn"));
            var metadataPath = Path.Combine(ddqn, "metadata.json");
            var metadata = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(metadataPath))!;
            metadata["seed"] = 2026;
            File.WriteAllText(metadataPath, metadata.ToJsonString());
            RepoFiles.CopyModel("ppo", Path.Combine(newer, "ppo"));

            var older = await SiloHost.StartAsync(_redis.ConnectionString, Settings(), clusterId);
            older.Log.Expect(trainerStopping);
            older.Log.ExpectRecord(SiloLog.SiblingStoppedRecord);
            var shipped = (await WaitForLoaded(older.Http, "ddqn", 1)).GetProperty("versions")[0].GetProperty("digest").GetString();
            var upgraded = await SiloHost.StartAsync(_redis.ConnectionString, Settings(("Models:Directory", newer)), clusterId);
            upgraded.Log.Expect(trainerStopping);
            upgraded.Log.ExpectRecord(SiloLog.SiblingStoppedRecord);
            // The trainer moves to the upgraded silo, which adopts its base as version 2.
            await older.DisposeAsync();
            var adopted = await WaitForLoaded(upgraded.Http, "ddqn", 2);
            Assert.Equal(2, adopted.GetProperty("activeVersion").GetInt32());
            var upgrade = adopted.GetProperty("versions")[1];
            Assert.Equal("base", upgrade.GetProperty("source").GetString());
            Assert.NotEqual(shipped, upgrade.GetProperty("digest").GetString());

            // A silo of the older image comes back and hosts the trainer once the upgraded one stops: version 2 stays.
            var syncs = new DdqnSyncsAsked();
            await using var back = await SiloHost.StartAsync(_redis.ConnectionString, Settings(), clusterId,
                configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(syncs));
            back.Log.Expect(trainerStopping);
            back.Log.ExpectRecord(SiloLog.SiblingStoppedRecord);
            await WaitForLoaded(back.Http, "ddqn", 2);
            await upgraded.DisposeAsync();
            // Answered by the trainer's activation on this silo, the only one left: its status is what it made of its base.
            await back.Http.WaitFor("/api/v1/learning/ddqn", _ => true, 30, retryUnavailable: true);
            // What this silo decides with is its model sync's: one asked after that answer has been applied once the one
            // after it is asked (the sync asks and applies in turn).
            var asked = syncs.Count;
            for (var deadline = DateTime.UtcNow.AddSeconds(30); syncs.Count < asked + 2; await Task.Delay(50))
                Assert.True(DateTime.UtcNow < deadline, $"the model sync asked the ddqn trainer {syncs.Count - asked} times in 30 s");
            var after = await back.Http.GetJson("/api/v1/learning/ddqn");
            Assert.Equal(2, after.GetProperty("activeVersion").GetInt32());
            Assert.Equal([1, 2], after.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
            Assert.Equal(2, after.GetProperty("loadedVersion").GetInt32());
        }
        finally
        {
            Directory.Delete(newer, recursive: true);
        }
    }

    /// <summary>Counts the ddqn model syncs this silo asks of the trainer.</summary>
    private sealed class DdqnSyncsAsked : IOutgoingGrainCallFilter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(ILearningGrain) && context.InterfaceMethod.Name == nameof(ILearningGrain.Sync)
                && context.TargetId.Key.ToString() == "ddqn")
                Interlocked.Increment(ref _count);
            return context.Invoke();
        }
    }
}
