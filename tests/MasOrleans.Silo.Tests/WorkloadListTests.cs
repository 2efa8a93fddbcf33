using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Silo.Tests.Kubectl;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The list of workloads (REST's /api/v1/workloads and /k8s's deployments) across silos and restarts, on a real
/// redis-server: it was each silo's memory of the workloads it had seen created or owning a pod, so a workload held at
/// zero replicas and created through another silo, or before a restart, was listed nowhere though its GET found it.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class WorkloadListTests : IDisposable
{
    private readonly RedisServer _redis = RedisServer.Start();

    public void Dispose() => _redis.Dispose();

    private static object ZeroReplicas(string name) =>
        new { name, replicas = 0, template = new { requests = new Dictionary<string, string> { ["cpu"] = "1m" } } };

    private static List<string> Names(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("name").GetString()!).ToList();

    private static async Task<List<string>> Deployments(HttpClient http) =>
        JsonDocument.Parse(await http.GetStringAsync("/k8s/apis/apps/v1/deployments")).RootElement.GetProperty("items").EnumerateArray()
            .Select(d => d.GetProperty("metadata").GetProperty("name").GetString()!).ToList();

    [Fact]
    public async Task A_workload_created_on_one_silo_is_listed_by_the_other_and_unlisted_by_both_once_deleted()
    {
        var clusterId = $"list-{_redis.Port}";
        await using var first = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        await using var second = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        first.Log.ExpectSiblingStopped();
        foreach (var name in new[] { "wl-b", "wl-a" })
            Assert.Equal(HttpStatusCode.Created, (await first.Http.Post("/api/v1/workloads", ZeroReplicas(name))).StatusCode);

        // Owning no pod, created through the first silo: the second finds both, in name order, as the first does.
        foreach (var silo in new[] { second, first })
        {
            var all = await silo.Http.GetJson("/api/v1/workloads");
            Assert.Equal(["wl-a", "wl-b"], Names(all));
            Assert.Equal(2, all.GetProperty("total").GetInt32());
            Assert.Equal(["wl-a", "wl-b"], await Deployments(silo.Http));
        }
        // A page from one silo continues on the other.
        var firstPage = await first.Http.GetJson("/api/v1/workloads?limit=1");
        Assert.Equal(["wl-a"], Names(firstPage));
        Assert.Equal(2, firstPage.GetProperty("total").GetInt32());
        var rest = await second.Http.GetJson($"/api/v1/workloads?limit=1&continue={firstPage.GetProperty("continue").GetString()}");
        Assert.Equal(["wl-b"], Names(rest));
        Assert.False(rest.TryGetProperty("continue", out _));

        Assert.Equal(HttpStatusCode.NoContent, (await second.Http.DeleteAsync("/api/v1/workloads/wl-a")).StatusCode);
        foreach (var silo in new[] { first, second })
        {
            var after = await silo.Http.GetJson("/api/v1/workloads");
            Assert.Equal(["wl-b"], Names(after));
            Assert.Equal(1, after.GetProperty("total").GetInt32());
            Assert.Equal(["wl-b"], await Deployments(silo.Http));
        }
    }

    [Fact]
    public async Task A_workload_at_zero_replicas_is_listed_after_the_silo_restarts()
    {
        var clusterId = $"relist-{_redis.Port}";
        await using (var silo = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId))
            Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/workloads", ZeroReplicas("wl-kept"))).StatusCode);

        await using var restarted = await SiloHost.StartAsync(_redis.ConnectionString, clusterId: clusterId);
        Assert.Equal(["wl-kept"], Names(await restarted.Http.GetJson("/api/v1/workloads")));
        Assert.Equal(["wl-kept"], await Deployments(restarted.Http));
    }

    /// <summary>Counts the reads (<see cref="IWorkloadGrain.Get"/>) each workload receives.</summary>
    private sealed class WorkloadReads : IIncomingGrainCallFilter
    {
        public ConcurrentDictionary<string, int> Counts { get; } = new(StringComparer.Ordinal);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IWorkloadGrain) && context.InterfaceMethod.Name == nameof(IWorkloadGrain.Get))
                Counts.AddOrUpdate(context.TargetId.Key.ToString()!, 1, (_, n) => n + 1);
            return context.Invoke();
        }
    }

    /// <summary>
    /// A page read every workload (and refreshed every node and pod) before it paged them, so a page of one cost what
    /// the whole list did. The names are paged first now, and only the page's workloads are read: once each.
    /// </summary>
    [Fact]
    public async Task A_page_reads_only_its_own_workloads()
    {
        var reads = new WorkloadReads();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(reads));
        foreach (var name in new[] { "pg-a", "pg-b", "pg-c" })
            Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/workloads", ZeroReplicas(name))).StatusCode);
        reads.Counts.Clear();

        var page = await silo.Http.GetJson("/api/v1/workloads?limit=1&continue=pg-a");
        Assert.Equal(["pg-b"], Names(page));
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["pg-b"] = 1 }, reads.Counts.ToDictionary());
    }

    /// <summary>
    /// Lists read the workloads from the reminder table, and Orleans' Redis table throws every failure as a plain
    /// exception (RedisRemindersException): during a Redis outage GET /api/v1/workloads was a 500, the /k8s deployment list
    /// a 500 problem rather than a 503 Status, a create whose reminder could not be written a 500, and a deployments watch
    /// was cut. They are the outage's 503s now, and the watch rides it out as the cache's pod watches do.
    /// </summary>
    [Fact]
    public async Task A_Redis_outage_is_a_503_for_lists_and_creates_and_a_watch_rides_it_out()
    {
        await using var silo = await SiloHost.StartAsync(_redis.ConnectionString, expectedLog:
        [
            .. RedisDownLog.Patterns,
            // The DELETE too: it is sent until it is not answered 503, which the silo may still do as Redis comes back.
            "Unhandled exception for (GET|POST|DELETE) /api/v1/workloads",
            "Answered 503 for (GET|POST|DELETE) /api/v1/workloads",
            "Kubernetes request GET /k8s/apis/apps/v1/deployments answered 503",
            "Kubernetes watch could not list the cluster",
            "^Orleans\\.Grain$",
        ]);
        var http = silo.Http;
        Assert.Equal(HttpStatusCode.Created, (await http.Post("/api/v1/workloads", ZeroReplicas("wl-up"))).StatusCode);
        // Active before the outage, so its create reaches the reminder's registration (a state read needs Redis too).
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/workloads/wl-later")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/k8s/apis/apps/v1/deployments?watch=true");
        using var watch = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var stream = new StreamReader(await watch.Content.ReadAsStreamAsync());
        Assert.Contains("\"ADDED\"", await stream.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));

        _redis.Crash();
        using (var list = await http.GetAsync("/api/v1/workloads"))
            Assert.True(list.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)list.StatusCode}: {await list.Content.ReadAsStringAsync()}");
        using (var deployments = await http.GetAsync("/k8s/apis/apps/v1/deployments"))
            await KubeHttp.Status(deployments, HttpStatusCode.ServiceUnavailable, "ServiceUnavailable");
        using (var create = await http.Post("/api/v1/workloads", ZeroReplicas("wl-later")))
            Assert.True(create.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)create.StatusCode}: {await create.Content.ReadAsStringAsync()}");
        _redis.Restart();

        // Once Redis answers, the watch that stayed open sends the deletion.
        // A DELETE answered 503 may have been half made (its state cleared, its reminder not): sent again, it is not found.
        var unavailable = false;
        using (var deleted = await RedisOutageTests.Answered(async () =>
        {
            var response = await http.DeleteAsync("/api/v1/workloads/wl-up");
            unavailable |= response.StatusCode == HttpStatusCode.ServiceUnavailable;
            return response;
        }))
            Assert.True(deleted.StatusCode == HttpStatusCode.NoContent || (unavailable && deleted.StatusCode == HttpStatusCode.NotFound),
                $"{(int)deleted.StatusCode} (after a 503: {unavailable}): {await deleted.Content.ReadAsStringAsync()}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line;
        while ((line = await stream.ReadLineAsync(timeout.Token)) is not null && !line.Contains("\"DELETED\""))
        {
        }
        Assert.NotNull(line);
        Assert.Contains("wl-up", line);
    }
}
