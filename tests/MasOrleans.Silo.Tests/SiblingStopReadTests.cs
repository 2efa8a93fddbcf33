using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A REST or /k8s call whose grain call a sibling's graceful stop broke, through real HTTP to a silo in this process: reads
/// (REST GET, /k8s lists and GETs, watch looks) and pod DELETEs (REST and /k8s, PodDeletion), broken by
/// <see cref="CallBreaks"/>: in a stopping sibling's name (<see cref="CallBreaks.SiblingShuttingDown"/>), which the rule asks
/// again without waiting, or as a call in flight to a stopping silo breaks, which with no sibling stopping is an outage and
/// not asked again.
/// </summary>
public sealed class SiblingStopReadTests
{
    // The categories whose Information records the tests read (event 2055, event 2160).
    private static readonly Dictionary<string, string> InformationOf = new()
    {
        ["Logging:LogLevel:MasOrleans.Silo.Api.ReadsAskedAgain"] = "Information",
        ["Logging:LogLevel:MasOrleans.Silo.KubeApi.KubeCache"] = "Information",
    };

    private static Task<SiloHost> Start(CallBreaks breaks, params string[] expectedLog) =>
        SiloHost.StartAsync(expectedLog: expectedLog, configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(breaks),
            settings: InformationOf,
            logMinimum: LogLevel.Information);

    /// <summary>
    /// Failed before (503, Error 2001 "Unhandled exception for GET /api/v1/pods"): in a rolling restart of three silos under
    /// load, a client of a silo that stayed up was refused when the cluster index grain left the stopping sibling as it read
    /// it (GET /api/v1/cluster, GET /api/v1/pods). ListPods is broken here: only the listing calls it (the cluster gauges'
    /// sampler calls GetSummary on its own, and would take a break meant for the request). The ask again is said at
    /// Information (event 2055), so a first call that keeps breaking shows in the log.
    /// </summary>
    [Fact]
    public async Task A_read_broken_by_a_siblings_stop_is_asked_again_and_answered()
    {
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.ListPods)) { Message = CallBreaks.SiblingShuttingDown };
        await using var silo = await Start(breaks);
        var asked = breaks.Asked;
        breaks.Remaining = 1;
        using var response = await silo.Http.GetAsync("/api/v1/pods");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, breaks.Asked - asked);
        var record = Assert.Single(silo.Log.Records, r => r.EventId == 2055);
        Assert.Equal(LogLevel.Information, record.Level);
        Assert.Contains("GET /api/v1/pods", record.Message);
    }

    /// <summary>Asked again at most twice (then the outage's 503 with Retry-After), not until it answers.</summary>
    [Fact]
    public async Task A_read_broken_at_every_ask_is_a_503_after_three()
    {
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.ListPods)) { Message = CallBreaks.SiblingShuttingDown };
        await using var silo = await Start(breaks, "Unhandled exception for GET /api/v1/pods");
        var asked = breaks.Asked;
        breaks.Remaining = 100;
        using var response = await silo.Http.GetAsync("/api/v1/pods");
        breaks.Remaining = 0;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(3, breaks.Asked - asked);
    }

    /// <summary>
    /// Failed before (200 after a second ask, silently): any unavailable silo or rejection was asked again as a sibling's
    /// stop, with none stopping (a crashed silo not yet declared dead, an overload). Such a break is the outage's 503 at
    /// once, by the rule a watch's look follows (SiloStopping.BrokenBySiblingsStop).
    /// </summary>
    [Fact]
    public async Task A_read_broken_with_no_sibling_stopping_is_not_asked_again()
    {
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.ListPods));
        await using var silo = await Start(breaks, "Unhandled exception for GET /api/v1/pods");
        var asked = breaks.Asked;
        breaks.Remaining = 1;
        using var response = await silo.Http.GetAsync("/api/v1/pods");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, breaks.Asked - asked);
        Assert.DoesNotContain(silo.Log.Records, r => r.EventId == 2055);
    }

    /// <summary>
    /// Failed before (Warning 2101 "Kubernetes watch could not list the cluster; retrying", with its stack): an open
    /// `kubectl get pods -w` on a silo that stayed up logged one for each look a sibling's graceful stop broke in a rolling
    /// restart ("Silo stopping", a pod's Get forwarded to the stopping silo). Such a look is looked at again, said at
    /// Information. The break here is Orleans' refusal in a stopping sibling's name (PlacementService's "Silo '...' is
    /// shutting down."); the watch still shows a pod created after it.
    /// </summary>
    [Fact]
    public async Task A_watch_look_broken_by_a_siblings_stop_is_looked_at_again_without_a_warning()
    {
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.ListPods)) { Message = CallBreaks.SiblingShuttingDown };
        await using var silo = await Start(breaks);
        using var watch = await silo.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/k8s/api/v1/namespaces/default/pods?watch=true"),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        // The watch has made its first look; the next ones are its poller's, every 250 ms.
        var asked = breaks.Asked;
        breaks.Remaining = 1;
        await FaultScenarios.WaitUntil(() => breaks.Asked > asked + 1, 30);
        Assert.Equal(HttpStatusCode.Accepted, (await silo.Http.Post("/api/v1/pods", Requests.Pod("after-the-break", cpu: "100m"))).StatusCode);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = false;
        while (!seen && await reader.ReadLineAsync(timeout.Token) is { } line) seen = line.Contains("\"name\":\"after-the-break\"", StringComparison.Ordinal);
        Assert.True(seen, "the watch ended without the pod created after the break");
        Assert.Equal(LogLevel.Information, Assert.Single(silo.Log.Records, r => r.EventId == 2160).Level);
    }

    /// <summary>
    /// The other side of the rule above: a look broken with no sibling stopping (a crashed silo not yet declared dead, an
    /// overload) is an outage, still Warning 2101 with its stack, and looked at again all the same.
    /// </summary>
    [Fact]
    public async Task A_watch_look_broken_with_no_sibling_stopping_is_still_a_warning()
    {
        const string pollFailed = "^Kubernetes watch could not list the cluster; retrying$";
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.ListPods));
        await using var silo = await Start(breaks, pollFailed);
        using var watch = await silo.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/k8s/api/v1/namespaces/default/pods?watch=true"),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        var asked = breaks.Asked;
        breaks.Remaining = 1;
        await FaultScenarios.WaitUntil(() => breaks.Asked > asked + 1, 30);
        var record = Assert.Single(silo.Log.Records, r => r.EventId == 2101);
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.IsType<SiloUnavailableException>(record.Exception);
        Assert.DoesNotContain(silo.Log.Records, r => r.EventId == 2160);
    }

    /// <summary>A write is not sent again: a broken call may have landed.</summary>
    [Fact]
    public async Task A_write_broken_by_a_siblings_stop_is_not_sent_again()
    {
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.SetDefaultPolicy));
        await using var silo = await Start(breaks, "Unhandled exception for PUT /api/v1/scheduler/policy");
        var asked = breaks.Asked;
        breaks.Remaining = 1;
        using var response = await silo.Http.PutAsJsonAsync("/api/v1/scheduler/policy", new { policy = "fgd" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, breaks.Asked - asked);
    }

    /// <summary>
    /// Failed before (503 with Warning 2104 "Kubernetes request GET /k8s/api/v1/namespaces/default/pods answered 503"): a
    /// /k8s read that is not a watch (`kubectl get pods`) was not asked again. It is now, by the REST API's rule.
    /// </summary>
    [Fact]
    public async Task A_kubernetes_list_broken_by_a_siblings_stop_is_asked_again_and_answered()
    {
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.ListPods)) { Message = CallBreaks.SiblingShuttingDown };
        await using var silo = await Start(breaks);
        var asked = breaks.Asked;
        breaks.Remaining = 1;
        using var response = await silo.Http.GetAsync("/k8s/api/v1/namespaces/default/pods");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("PodList", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kind").GetString());
        Assert.Equal(2, breaks.Asked - asked);
        Assert.Contains("GET /k8s/api/v1/namespaces/default/pods", Assert.Single(silo.Log.Records, r => r.EventId == 2055).Message);
        Assert.DoesNotContain(silo.Log.Records, r => r.EventId == 2104);
    }

    /// <summary>
    /// Failed before (503 with Warning 2104): a GET of one object. The pod is one no one made, whose grain nothing else
    /// reads, so the break is this request's: answered its 404 Status after the ask again.
    /// </summary>
    [Fact]
    public async Task A_kubernetes_get_of_one_object_broken_by_a_siblings_stop_is_asked_again_and_answered()
    {
        var breaks = new CallBreaks(typeof(IPodGrain), nameof(IPodGrain.Get)) { Message = CallBreaks.SiblingShuttingDown, Key = "nobody-made-it" };
        await using var silo = await Start(breaks);
        breaks.Remaining = 1;
        using var response = await silo.Http.GetAsync("/k8s/api/v1/namespaces/default/pods/nobody-made-it");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var status = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Status", status.GetProperty("kind").GetString());
        Assert.Equal("NotFound", status.GetProperty("reason").GetString());
        Assert.True(breaks.Asked >= 2, $"asked {breaks.Asked} times");
        Assert.Contains("GET /k8s/api/v1/namespaces/default/pods/nobody-made-it", Assert.Single(silo.Log.Records, r => r.EventId == 2055).Message);
    }

    /// <summary>Asked again at most twice, then the outage's 503 as a Kubernetes Status with Retry-After (not problem details).</summary>
    [Fact]
    public async Task A_kubernetes_read_broken_at_every_ask_is_a_503_status_after_three()
    {
        var breaks = new CallBreaks(typeof(IClusterIndexGrain), nameof(IClusterIndexGrain.ListPods)) { Message = CallBreaks.SiblingShuttingDown };
        await using var silo = await Start(breaks, "^Kubernetes request GET /k8s/api/v1/namespaces/default/pods answered 503");
        var asked = breaks.Asked;
        breaks.Remaining = 100;
        using var response = await silo.Http.GetAsync("/k8s/api/v1/namespaces/default/pods");
        breaks.Remaining = 0;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var status = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Status", status.GetProperty("kind").GetString());
        Assert.Equal(503, status.GetProperty("code").GetInt32());
        Assert.Equal(3, breaks.Asked - asked);
        Assert.Equal(2, silo.Log.Records.Count(r => r.EventId == 2055));
    }

    private static CallBreaks DeleteBreaks(string pod, bool lands) =>
        new(typeof(IPodGrain), nameof(IPodGrain.Delete)) { Message = CallBreaks.SiblingShuttingDown, Key = pod, Lands = lands };

    private static async Task<HttpStatusCode> Create(SiloHost silo, string pod)
    {
        using var created = await silo.Http.Post("/api/v1/pods", Requests.Pod(pod, cpu: "100m"));
        return created.StatusCode;
    }

    /// <summary>
    /// Failed before (503 with Retry-After, Error 2001 "Unhandled exception for DELETE /api/v1/pods/landed"): a pod's
    /// delete whose pod grain was leaving a stopping sibling, about once in 700 deletions over a rolling restart. The
    /// broken delete landed here: asked again it reads the pod gone, and the deletion is done (204, not a 404) with no
    /// second delete.
    /// </summary>
    [Fact]
    public async Task A_pod_delete_broken_by_a_siblings_stop_after_it_landed_is_done()
    {
        var breaks = DeleteBreaks("landed", lands: true);
        await using var silo = await Start(breaks);
        Assert.Equal(HttpStatusCode.Accepted, await Create(silo, "landed"));
        breaks.Remaining = 1;
        using var response = await silo.Http.DeleteAsync("/api/v1/pods/landed");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(1, breaks.Asked);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync("/api/v1/pods/landed")).StatusCode);
        Assert.Contains("DELETE /api/v1/pods/landed", Assert.Single(silo.Log.Records, r => r.EventId == 2055).Message);
    }

    /// <summary>Failed before (503, Error 2001): the broken delete did not land; asked again, it deletes the pod.</summary>
    [Fact]
    public async Task A_pod_delete_broken_by_a_siblings_stop_before_it_landed_is_done()
    {
        var breaks = DeleteBreaks("not-landed", lands: false);
        await using var silo = await Start(breaks);
        Assert.Equal(HttpStatusCode.Accepted, await Create(silo, "not-landed"));
        breaks.Remaining = 1;
        using var response = await silo.Http.DeleteAsync("/api/v1/pods/not-landed");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(2, breaks.Asked);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync("/api/v1/pods/not-landed")).StatusCode);
    }

    /// <summary>
    /// The ask again knows the pod it read by its creation time: a pod of the name created after the broken delete landed is
    /// a newer one, left alone (not deleted again), and the deletion is done (a delete asked again without the pod's
    /// creation time deleted the new pod too).
    /// </summary>
    [Fact]
    public async Task A_pod_created_again_after_a_broken_delete_landed_is_left_alone()
    {
        var breaks = DeleteBreaks("again", lands: true);
        await using var silo = await Start(breaks);
        Assert.Equal(HttpStatusCode.Accepted, await Create(silo, "again"));
        var createdAgain = HttpStatusCode.OK;
        breaks.AfterLanding = async () => createdAgain = await Create(silo, "again");
        breaks.Remaining = 1;
        using var response = await silo.Http.DeleteAsync("/api/v1/pods/again");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, createdAgain);
        Assert.Equal(1, breaks.Asked);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/api/v1/pods/again")).StatusCode);
    }

    /// <summary>
    /// A pod deleted and created again between the deletion's read and its delete is read again and deleted: the delete
    /// names the pod by name, as etcd's conditional delete judges the object as stored after a stale read
    /// (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go, conditionalDelete). REST answered 404 and kept the newer
    /// pod before, while /k8s deleted it: one rule now (PodDeletion).
    /// </summary>
    [Theory]
    [InlineData("/api/v1/pods/raced", HttpStatusCode.NoContent)]
    [InlineData("/k8s/api/v1/namespaces/default/pods/raced", HttpStatusCode.OK)]
    public async Task A_pod_deleted_and_created_again_after_the_deletions_read_is_read_again_and_deleted(string path, HttpStatusCode deleted)
    {
        var breaks = DeleteBreaks("raced", lands: false);
        await using var silo = await Start(breaks);
        Assert.Equal(HttpStatusCode.Accepted, await Create(silo, "raced"));
        HttpStatusCode? deletedMeanwhile = null, createdAgain = null;
        breaks.BeforeFirst = async () =>
        {
            using (var first = await silo.Http.DeleteAsync("/api/v1/pods/raced")) deletedMeanwhile = first.StatusCode;
            createdAgain = await Create(silo, "raced");
        };
        using var response = await silo.Http.DeleteAsync(path);
        Assert.Equal(HttpStatusCode.NoContent, deletedMeanwhile);
        Assert.Equal(HttpStatusCode.Accepted, createdAgain);
        Assert.Equal(deleted, response.StatusCode);
        // The request's delete, the one made meanwhile, and the request's delete of the pod read again.
        Assert.Equal(3, breaks.Asked);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync("/api/v1/pods/raced")).StatusCode);
    }

    /// <summary>
    /// Failed before (503 Status, Warning 2104 "Kubernetes request DELETE ... answered 503"): /k8s's pod DELETE was not
    /// asked again when a sibling's stop broke it, REST's was. It follows REST's rule now: a broken delete that landed is
    /// done (the pod read is gone: no second delete), one that did not land is sent again; the answer is the pod deleted, as
    /// kubectl reads it.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_kubernetes_pod_delete_broken_by_a_siblings_stop_is_answered_as_rests(bool lands)
    {
        var pod = lands ? "k8s-landed" : "k8s-not-landed";
        var breaks = DeleteBreaks(pod, lands);
        await using var silo = await Start(breaks);
        Assert.Equal(HttpStatusCode.Accepted, await Create(silo, pod));
        breaks.Remaining = 1;
        using var response = await silo.Http.DeleteAsync($"/k8s/api/v1/namespaces/default/pods/{pod}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var deleted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Pod", deleted.GetProperty("kind").GetString());
        Assert.Equal(pod, deleted.GetProperty("metadata").GetProperty("name").GetString());
        Assert.Equal(lands ? 1 : 2, breaks.Asked);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync($"/api/v1/pods/{pod}")).StatusCode);
        Assert.Contains($"DELETE /k8s/api/v1/namespaces/default/pods/{pod}", Assert.Single(silo.Log.Records, r => r.EventId == 2055).Message);
    }
}
