using System.Net;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// Periodic watch bookmarks. The API server's watch cache sends a watch that asked for allowWatchBookmarks a BOOKMARK
/// about every minute (defaultBookmarkFrequency = time.Minute, staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go),
/// or 2 s before the watch's timeout when that comes first (cacheWatcher.nextBookmarkTime, cache_watcher.go), an empty
/// object of the kind carrying the cache's resourceVersion, and only once that version is newer than the one the watch
/// started from (cacheWatcher.process). /k8s sent a bookmark only to end a watch-list's initial events, so a client's
/// resourceVersion went stale across a quiet spell. The silo here sends them each second (KubeApi:WatchBookmarkSeconds).
/// When they are due is <see cref="KubeWatchBookmarkScheduleTests"/>.
/// </summary>
public sealed class KubeWatchBookmarkTests : IAsyncLifetime
{
    private SiloHost _silo = null!;

    public async Task InitializeAsync() =>
        _silo = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["KubeApi:WatchBookmarkSeconds"] = "1" });

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private HttpClient Http => _silo.Http;

    /// <summary>The bookmark interval the silo here is given.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A watch read line by line until an event <paramref name="last"/> picks (or the stream's end), then closed; with
    /// <paramref name="linger"/>, read that much longer after it first, to see what else comes.
    /// </summary>
    private async Task<List<(string Type, JsonElement Object)>> Until(string path, Func<List<(string Type, JsonElement Object)>, bool> last, TimeSpan? linger = null)
    {
        using var response = await Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string Type, JsonElement Object)>();
        using var lingering = new CancellationTokenSource();
        try
        {
            while (await reader.ReadLineAsync(lingering.Token) is { } line)
            {
                if (line.Length == 0) continue;
                var e = JsonDocument.Parse(line).RootElement;
                events.Add((e.GetProperty("type").GetString()!, e.GetProperty("object").Clone()));
                if (!last(events)) continue;
                if (linger is not { } more) break;
                lingering.CancelAfter(more);
                linger = null;
            }
        }
        catch (OperationCanceledException) when (lingering.IsCancellationRequested)
        {
            // Lingered as long as asked after the last event wanted: what came by then is the answer.
        }
        return events;
    }

    private static long Version(JsonElement o) => long.Parse(o.GetProperty("metadata").GetProperty("resourceVersion").GetString()!);

    private static string Describe(List<(string Type, JsonElement Object)> events) => string.Join(", ", events.Select(e => $"{e.Type} {Version(e.Object)}"));

    /// <summary>
    /// Each bookmark no older than anything sent before it and older than every change sent after it (later bookmarks
    /// may repeat its version): a client resuming from it misses nothing and gets nothing twice.
    /// </summary>
    private static void AssertBookmarksInOrder(List<(string Type, JsonElement Object)> events)
    {
        foreach (var (bookmark, at) in events.Select((e, i) => (e, i)).Where(x => x.e.Type == "BOOKMARK"))
        {
            var version = Version(bookmark.Object);
            Assert.All(events.Take(at), e => Assert.True(Version(e.Object) <= version, Describe(events)));
            Assert.All(events.Skip(at + 1).Where(e => e.Type != "BOOKMARK"), e => Assert.True(Version(e.Object) > version, Describe(events)));
        }
    }

    /// <summary>The periodic bookmark's object: the kind's empty object with the version alone (no initial-events-end annotation).</summary>
    private static void AssertPlainBookmark(JsonElement bookmark, string kind, string apiVersion)
    {
        Assert.Equal((kind, apiVersion), (bookmark.GetProperty("kind").GetString(), bookmark.GetProperty("apiVersion").GetString()));
        var metadata = bookmark.GetProperty("metadata");
        Assert.Equal(["resourceVersion"], metadata.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["kind", "apiVersion", "metadata"], bookmark.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_pod_watch_with_bookmarks_gets_one_each_interval_at_the_version_of_the_last_change_and_one_without_gets_none()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.Post("/api/v1/nodes", Requests.Node("bm-node"))).StatusCode);
        var start = Version(await Http.GetJson("/k8s/api/v1/pods"));
        // From the list's version: only changes, then bookmarks once a change moved the version past it.
        // A second pod once the first bookmark came, so a change follows a bookmark (one carrying a version ahead of it fails).
        var bookmarked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watching = Until($"/k8s/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&resourceVersion={start}&timeoutSeconds=60",
            events =>
            {
                if (events[^1].Type == "BOOKMARK") bookmarked.TrySetResult();
                return events.FindLastIndex(e => e.Type == "ADDED") is var added && added > events.FindIndex(e => e.Type == "BOOKMARK")
                    && events.Skip(added).Any(e => e.Type == "BOOKMARK");
            });
        // Read until its ADDED and an interval more, in which a bookmark would have come to it.
        var plain = Until($"/k8s/api/v1/namespaces/default/pods?watch=true&resourceVersion={start}&timeoutSeconds=60",
            events => events.Any(e => e.Type == "ADDED"), linger: Interval);
        using (var created = await Http.Post("/api/v1/pods", Requests.Pod("bm-pod", cpu: "1")))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);

        await bookmarked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        using (var created = await Http.Post("/api/v1/pods", Requests.Pod("bm-pod-late", cpu: "1")))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var events = await watching;
        var bookmarks = events.Select((e, i) => (e, i)).Where(x => x.e.Type == "BOOKMARK").ToList();
        Assert.True(bookmarks.Count >= 2, $"fewer than two bookmarks: {Describe(events)}");
        foreach (var (bookmark, _) in bookmarks)
        {
            AssertPlainBookmark(bookmark.Object, "Pod", "v1");
            Assert.True(Version(bookmark.Object) > start, Describe(events));
        }
        AssertBookmarksInOrder(events);

        var without = await plain;
        Assert.Contains(without, e => e.Type == "ADDED");
        Assert.DoesNotContain(without, e => e.Type == "BOOKMARK");
    }

    /// <summary>
    /// A polled watch (namespaces here; deployments and events alike) sends them at its look's version too, and a node
    /// watch at the version of the last change the cache recorded, a pod's too: the silo's versions are one counter.
    /// </summary>
    [Fact]
    public async Task The_polled_and_node_watches_get_them_too()
    {
        var start = Version(await Http.GetJson("/k8s/api/v1/pods"));
        var namespaces = Until($"/k8s/api/v1/namespaces?watch=true&allowWatchBookmarks=true&resourceVersion={start}&timeoutSeconds=120",
            events => events.Any(e => e.Type == "BOOKMARK"));
        var nodes = Until($"/k8s/api/v1/nodes?watch=true&allowWatchBookmarks=true&resourceVersion={start}&timeoutSeconds=120",
            events => events.Any(e => e.Type == "BOOKMARK"));
        Assert.Equal(HttpStatusCode.Created, (await Http.Post("/api/v1/nodes", Requests.Node("bm-node2"))).StatusCode);
        using (var created = await Http.Post("/api/v1/pods", Requests.Pod("bm-pod2", cpu: "1")))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);

        var polled = await namespaces;
        AssertPlainBookmark(polled[^1].Object, "Namespace", "v1");
        Assert.True(Version(polled[^1].Object) > start, Describe(polled));
        var watched = await nodes;
        AssertPlainBookmark(watched[^1].Object, "Node", "v1");
        Assert.True(Version(watched[^1].Object) > start, Describe(watched));
        AssertBookmarksInOrder(watched);
    }
}
