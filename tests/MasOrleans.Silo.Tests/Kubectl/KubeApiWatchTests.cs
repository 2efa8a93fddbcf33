using System.Net;
using System.Text;
using System.Text.Json;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A watch as kubectl and client-go read it: resumed from a resourceVersion, with a selector, as a table, over the same
/// HTTPS and bearer token kubectl uses.
/// </summary>
public sealed class KubeApiWatchTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    [Fact]
    public async Task Watch_from_a_lists_resource_version_sends_only_later_changes_and_an_expired_one_is_an_error_event_410()
    {
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("rv-before", "rv")))).StatusCode);
        var list = JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/namespaces/default/pods?labelSelector=app%3Drv")).RootElement;
        Assert.Equal(["rv-before"], list.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("metadata").GetProperty("name").GetString()));
        var listed = long.Parse(list.GetProperty("metadata").GetProperty("resourceVersion").GetString()!);

        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("rv-after", "rv")))).StatusCode);
        // The server ends the stream after timeoutSeconds, as the API server does; every line is one event.
        var stream = await kube.Http.GetStringAsync($"api/v1/namespaces/default/pods?labelSelector=app%3Drv&watch=true&resourceVersion={listed}&timeoutSeconds=3");
        var events = stream.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var named = events.Select(e => (Type: e.GetProperty("type").GetString(), Name: e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString(),
            Version: long.Parse(e.GetProperty("object").GetProperty("metadata").GetProperty("resourceVersion").GetString()!))).ToList();
        Assert.True(named.Count > 0, "no events after the list's resourceVersion");
        Assert.Equal(("ADDED", "rv-after"), (named[0].Type, named[0].Name));
        Assert.DoesNotContain(named, e => e.Name == "rv-before" && e.Type == "ADDED");
        Assert.All(named, e => Assert.True(e.Version > listed, $"{e.Type} {e.Name} at {e.Version} is not after {listed}"));
        Assert.Equal(named.Select(e => e.Version).Order(), named.Select(e => e.Version));

        // A version older than the silo's history (its counter starts from the clock) is gone; kubectl lists again. As the
        // API server's watch cache answers it (apiserver pkg/storage/cacher/cacher.go, Cacher.Watch: errors after the
        // version parses "must fail with a watch event of type ERROR, rather than a directly returned error"): a 200 stream
        // of one ERROR event whose Status is 410 Expired, "too old resource version: %d (%d)" (watch_cache.go) naming the
        // oldest version it resumes from, which the list's version is not older than. It was a 410 answer.
        using var response = await kube.Http.GetAsync("api/v1/namespaces/default/pods?watch=true&resourceVersion=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var error = Assert.Single(lines);
        var expired = JsonDocument.Parse(error).RootElement;
        Assert.Equal("ERROR", expired.GetProperty("type").GetString());
        var status = expired.GetProperty("object");
        Assert.Equal(("Status", "Failure", "Expired", 410), (status.GetProperty("kind").GetString(), status.GetProperty("status").GetString(),
            status.GetProperty("reason").GetString(), status.GetProperty("code").GetInt32()));
        var message = System.Text.RegularExpressions.Regex.Match(status.GetProperty("message").GetString()!, @"^too old resource version: 1 \((\d+)\)$");
        Assert.True(message.Success, status.GetProperty("message").GetString());
        Assert.InRange(long.Parse(message.Groups[1].Value), 2, listed);
    }

    private async Task<List<(string Type, string Name, JsonElement Object)>> Watch(string path, long from)
    {
        var separator = path.Contains('?') ? '&' : '?';
        var stream = await kube.Http.GetStringAsync($"{path}{separator}watch=true&resourceVersion={from}&timeoutSeconds=2");
        return stream.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString()!, e.GetProperty("object")))
            .ToList();
    }

    private static string Version(JsonElement list) => list.GetProperty("metadata").GetProperty("resourceVersion").GetString()!;

    /// <summary>
    /// A watch with a selector sees objects enter and leave it, as the API server's watch cache shows them
    /// (apiserver pkg/storage/cacher/cache_watcher.go, convertToWatchEvent): a Pending pod becoming Running is DELETED
    /// for a status.phase=Pending watch (with its last Pending state) and ADDED for a status.phase=Running one; a node
    /// losing the selected label is DELETED. Only the new state was tested before: no DELETED, and a MODIFIED for an
    /// object the Running watch never saw.
    /// </summary>
    [Fact]
    public async Task A_watch_with_a_selector_sees_objects_enter_and_leave_its_selection()
    {
        var from = long.Parse(Version(JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/pods")).RootElement));
        var pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sel-moves"},"spec":{"nodeSelector":{"test":"sel-watch"},"containers":[{"name":"main","image":"busybox","resources":{"requests":{"cpu":"1"}}}]}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(pod))).StatusCode);
        const string mine = "api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dsel-moves";
        // Lists are looks the cache records: the pod is seen Pending (no node has its label yet), then Running.
        Assert.Equal("Pending", JsonDocument.Parse(await kube.Http.GetStringAsync(mine)).RootElement.GetProperty("items")[0].GetProperty("status").GetProperty("phase").GetString());
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"sel-watch-node","labels":{"test":"sel-watch","zone":"a"}},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node))).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (JsonDocument.Parse(await kube.Http.GetStringAsync(mine)).RootElement.GetProperty("items")[0].GetProperty("status").GetProperty("phase").GetString() != "Running")
        {
            Assert.True(DateTime.UtcNow < deadline, "sel-moves never ran");
            await Task.Delay(200);
        }

        var pending = (await Watch("api/v1/pods?fieldSelector=status.phase%3DPending", from)).Where(e => e.Name == "sel-moves").ToList();
        Assert.True(pending.Count >= 2, string.Join(", ", pending.Select(e => e.Type)));
        Assert.Equal("ADDED", pending[0].Type);
        Assert.All(pending.Skip(1).SkipLast(1), e => Assert.Equal("MODIFIED", e.Type));
        Assert.Equal("DELETED", pending[^1].Type);
        Assert.Equal("Pending", pending[^1].Object.GetProperty("status").GetProperty("phase").GetString());
        var running = (await Watch("api/v1/pods?fieldSelector=status.phase%3DRunning", from)).Where(e => e.Name == "sel-moves").ToList();
        Assert.Equal("ADDED", Assert.Single(running).Type);
        Assert.Equal("Running", running[0].Object.GetProperty("status").GetProperty("phase").GetString());
        // One change, seen from both sides: the DELETED carries the transition's resourceVersion, not its old state's.
        Assert.Equal(running[0].Object.GetProperty("metadata").GetProperty("resourceVersion").GetString(),
            pending[^1].Object.GetProperty("metadata").GetProperty("resourceVersion").GetString());

        var beforePatch = long.Parse(Version(JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/nodes")).RootElement));
        using (var patch = new HttpRequestMessage(HttpMethod.Patch, "api/v1/nodes/sel-watch-node")
        {
            Content = new StringContent("""{"metadata":{"labels":{"zone":null}}}""", Encoding.UTF8, "application/merge-patch+json"),
        })
            Assert.Equal(HttpStatusCode.OK, (await kube.Http.SendAsync(patch)).StatusCode);
        await kube.Http.GetStringAsync("api/v1/nodes");
        var zoneA = (await Watch("api/v1/nodes?labelSelector=zone%3Da", beforePatch)).Where(e => e.Name == "sel-watch-node").ToList();
        var left = Assert.Single(zoneA);
        Assert.Equal("DELETED", left.Type);
        Assert.Equal("a", left.Object.GetProperty("metadata").GetProperty("labels").GetProperty("zone").GetString());
        Assert.True(long.Parse(left.Object.GetProperty("metadata").GetProperty("resourceVersion").GetString()!) > beforePatch);
    }

    /// <summary>
    /// A node's telemetry reading is its heartbeat (the Ready condition's lastHeartbeatTime), not a change a node watch
    /// sees each time: a kubelet with node leases posts an unchanged status only every nodeStatusReportFrequency (5 min).
    /// Each reading was a MODIFIED event: at 2,000 nodes reporting every 10 s, 200 a second, and the silo's 10,000 kept
    /// changes lasted 50 s, after which a resumed pod watch was Expired (session 42). A label change is still one event.
    /// </summary>
    [Fact]
    public async Task A_node_heartbeat_alone_is_no_watch_event_and_a_real_change_is()
    {
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"heartbeat-node"},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node))).StatusCode);
        const string mine = "api/v1/nodes?fieldSelector=metadata.name%3Dheartbeat-node";
        var from = long.Parse(Version(JsonDocument.Parse(await kube.Http.GetStringAsync(mine)).RootElement));
        List<string> beats = [await Heartbeat()];
        for (var reading = 0; reading < 3; reading++)
        {
            await Task.Delay(20);
            using var posted = await kube.Http.PostAsync("../api/v1/nodes/heartbeat-node/telemetry", Json("""{"utilization":{"cpu":0.5}}"""));
            Assert.True(posted.IsSuccessStatusCode, $"telemetry: {(int)posted.StatusCode} {await posted.Content.ReadAsStringAsync()}");
            // The node holds the reading once posted; its view reaches the silo through the node's feed: the GET serves its heartbeat, then a list looks.
            // Until a 60 s deadline (each look is a GET, as slow as the machine): a loaded machine's feed may take seconds,
            // and the loop ends once it is there.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            var beat = await Heartbeat();
            while (beats.Contains(beat) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
                beat = await Heartbeat();
            }
            Assert.DoesNotContain(beat, beats);
            beats.Add(beat);
            await kube.Http.GetStringAsync(mine);
        }
        Assert.Empty(await Watch(mine, from));

        using (var patch = new HttpRequestMessage(HttpMethod.Patch, "api/v1/nodes/heartbeat-node")
        {
            Content = new StringContent("""{"metadata":{"labels":{"beat":"changed"}}}""", Encoding.UTF8, "application/merge-patch+json"),
        })
            Assert.Equal(HttpStatusCode.OK, (await kube.Http.SendAsync(patch)).StatusCode);
        await kube.Http.GetStringAsync(mine);
        Assert.Equal("MODIFIED", Assert.Single(await Watch(mine, from)).Type);
        Assert.Equal(HttpStatusCode.OK, (await kube.Http.DeleteAsync("api/v1/nodes/heartbeat-node")).StatusCode);
    }

    private async Task<string> Heartbeat() =>
        JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/nodes/heartbeat-node")).RootElement
            .GetProperty("status").GetProperty("conditions")[0].GetProperty("lastHeartbeatTime").GetString()!;

    /// <summary>
    /// A watch from a resourceVersion this silo has not reached (another silo's: each counts from its own start) gets the
    /// error the API server's watch cache gives a watch-list that waited for such a version (apiserver
    /// pkg/storage/cacher/cacher.go, Cacher.Watch: waitUntilWatchCacheFreshAndForceAllEvents' error goes to
    /// newErrWatcher, "must fail with a watch event of type ERROR, rather than a directly returned error"; the Status is
    /// pkg/storage/errors.go NewTooLargeResourceVersionError's): a 200 stream of one ERROR event whose Status is 504
    /// Timeout with cause ResourceVersionTooLarge, which makes client-go list again. It was a direct 504 answer (and
    /// before that a 200 stream that silently left out every change up to that version).
    /// </summary>
    [Fact]
    public async Task A_watch_from_a_resource_version_ahead_of_the_server_is_one_too_large_resource_version_error_event()
    {
        var current = long.Parse(Version(JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/pods")).RootElement));
        var ahead = current + 1_000_000;
        foreach (var path in new[] { "api/v1/pods", "api/v1/namespaces/default/pods", "api/v1/nodes" })
        {
            using var response = await kube.Http.GetAsync($"{path}?watch=true&resourceVersion={ahead}&timeoutSeconds=2");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
            var error = JsonDocument.Parse(Assert.Single(body.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
            Assert.Equal("ERROR", error.GetProperty("type").GetString());
            var status = error.GetProperty("object");
            Assert.Equal(("Status", "Failure", "Timeout", 504), (status.GetProperty("kind").GetString(), status.GetProperty("status").GetString(),
                status.GetProperty("reason").GetString(), status.GetProperty("code").GetInt32()));
            Assert.StartsWith($"Timeout: Too large resource version: {ahead}, current: ", status.GetProperty("message").GetString());
            var details = status.GetProperty("details");
            Assert.Equal("ResourceVersionTooLarge", Assert.Single(details.GetProperty("causes").EnumerateArray()).GetProperty("reason").GetString());
            Assert.Equal(1, details.GetProperty("retryAfterSeconds").GetInt32());
        }
        // The version the server is at is still one to watch from.
        Assert.Equal(HttpStatusCode.OK, (await kube.Http.GetAsync($"api/v1/pods?watch=true&resourceVersion={current}&timeoutSeconds=1")).StatusCode);
    }

    [Fact]
    public async Task Node_watch_as_a_table_sends_the_node_created_after_the_list()
    {
        var list = JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/nodes")).RootElement;
        var listed = list.GetProperty("metadata").GetProperty("resourceVersion").GetString();
        var node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"http-watched-node"},"status":{"capacity":{"cpu":"4","memory":"8Gi"}}}""";
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/nodes", Json(node))).StatusCode);

        // kubectl get nodes -w asks for rows of a Table in every event.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/nodes?watch=true&resourceVersion={listed}&timeoutSeconds=3");
        request.Headers.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        var stream = await (await kube.Http.SendAsync(request)).Content.ReadAsStringAsync();
        var first = JsonDocument.Parse(stream.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]).RootElement;
        Assert.Equal("ADDED", first.GetProperty("type").GetString());
        var table = first.GetProperty("object");
        Assert.Equal("Table", table.GetProperty("kind").GetString());
        Assert.Equal(["Name", "Status", "Roles", "Age", "Version"], table.GetProperty("columnDefinitions").EnumerateArray().Take(5).Select(c => c.GetProperty("name").GetString()));
        var cells = Assert.Single(table.GetProperty("rows").EnumerateArray()).GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(("http-watched-node", "Ready"), (cells[0].GetString(), cells[1].GetString()));
    }
}
