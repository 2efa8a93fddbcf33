using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using MasOrleans.Silo.Hosting;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// ?watch=true: a stream of {"type": ADDED|MODIFIED|DELETED, "object": ...}, one JSON object per line, from the
/// resourceVersion the client names (everything current when it names none or "0"), until the client leaves or
/// timeoutSeconds pass. Changes come from <see cref="KubeCache"/>, which polls while a watch is open. A watch-list
/// (sendInitialEvents=true, <see cref="KubeListOptions"/>) gets everything current from any version, then, with
/// allowWatchBookmarks, the BOOKMARK ending the initial events; sendInitialEvents=false from no version starts from now.
/// With allowWatchBookmarks it also sends the periodic BOOKMARKs (<see cref="KubeWatchBookmarks"/>), carrying the version
/// of the last change read from the cache, of any resource.
/// </summary>
internal static class KubeWatch
{
    /// <summary>?watch read as the API server reads a query bool (<see cref="KubeListOptions.Bool"/>): `watch=True` is a watch.</summary>
    public static bool Requested(HttpRequest request) => KubeListOptions.Bool(request.Query, "watch") == true;

    /// <param name="options">The request's list options, judged and read with its selectors (<see cref="KubeLists.TrySelectors"/>).</param>
    public static async Task Serve(HttpContext context, KubeCache cache, KubeListOptions options, string resource, Func<IKubernetesObject<V1ObjectMeta>, bool> selects)
    {
        var request = context.Request;
        var table = KubeTables.Wanted(request);
        var from = request.Query["resourceVersion"].ToString();
        var (reader, registration) = cache.Subscribe();
        using var _ = registration;
        var named = from is not ("" or "0");
        long version = 0;
        if (named && !long.TryParse(from, out version))
        {
            await KubeStatus.BadRequest($"resourceVersion '{from}' is not one this server gave out").ExecuteAsync(context);
            return;
        }
        if (named && version > cache.Version && (await cache.Refresh(context.RequestAborted)).Version < version)
        {
            // Ahead of this silo even after a fresh look: from another silo (or invented). Waiting, as the API server's
            // watch cache waits for a plain watch (its versions are etcd's, one for every server), would only lose the
            // events between this silo's version and that one; the error is the one a watch-list gets after its wait.
            await WriteErrorEvent(context, KubeStatus.TooLargeResourceVersion(version, cache.Version));
            return;
        }
        // The objects as they are now: asked for (sendInitialEvents, from any version not older than the one named), or a
        // legacy watch from no version or "0". sendInitialEvents=false from no version or "0" starts from now without them.
        var initialState = options.SendsInitialEvents || (!named && !options.SkipsInitialEvents);
        List<KubeCache.Change> initial;
        long sent;
        if (initialState || !named)
        {
            var snapshot = await cache.Refresh(context.RequestAborted);
            IEnumerable<IKubernetesObject<V1ObjectMeta>> current = resource == "nodes" ? snapshot.Nodes : snapshot.Pods;
            initial = initialState ? current.Select(o => new KubeCache.Change(snapshot.Version, "ADDED", resource, o, null)).ToList() : [];
            sent = snapshot.Version;
        }
        else if (cache.Since(version) is not { } since)
        {
            await WriteErrorEvent(context, KubeStatus.Expired($"too old resource version: {version} ({cache.OldestResumable})"));
            return;
        }
        else
        {
            initial = since.ToList();
            sent = initial.LastOrDefault()?.Version ?? version;
        }

        using var timeout = Lifetime(context, out var end);
        var kind = resource == "nodes" ? typeof(V1Node) : typeof(V1Pod);
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        try
        {
            // Inside the try: a silo that began to stop during the first look has already ended the lifetime, and the
            // stream then ends at once (a 503 with Warning 2104 before, on a graceful stop).
            await response.StartAsync(timeout.Token);
            foreach (var change in initial.Where(c => c.Resource == resource)) await Write(context, change, table, selects, timeout.Token);
            if (initialState && options.EndsInitialEventsWithBookmark)
                await WriteEvent(context, "BOOKMARK", KubeListOptions.InitialEventsEndBookmark(kind, sent.ToString()), timeout.Token);
            await response.Body.FlushAsync(timeout.Token);
            var bookmarks = KubeWatchBookmarks.For(context, options, sent, DateTimeOffset.UtcNow, end);
            // Every change up to it read from the channel, of any resource: the version a bookmark may carry.
            var current = sent;
            Task<bool>? waiting = null;
            while (true)
            {
                waiting ??= reader.WaitToReadAsync(timeout.Token).AsTask();
                if (bookmarks?.DueIn(DateTimeOffset.UtcNow) is { } due && !waiting.IsCompleted)
                {
                    using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
                    var delay = Task.Delay(due, stopDelay.Token);
                    if (await Task.WhenAny(waiting, delay) == delay)
                    {
                        await delay;
                        if (bookmarks.Take(kind, current, DateTimeOffset.UtcNow) is { } bookmark)
                        {
                            await WriteEvent(context, "BOOKMARK", bookmark, timeout.Token);
                            await response.Body.FlushAsync(timeout.Token);
                        }
                        continue;
                    }
                    await stopDelay.CancelAsync();
                }
                if (!await waiting) break;
                waiting = null;
                while (reader.TryRead(out var change))
                {
                    current = Math.Max(current, change.Version);
                    // A change already sent from the history may also arrive here: versions tell.
                    if (change.Version <= sent || change.Resource != resource) continue;
                    sent = change.Version;
                    await Write(context, change, table, selects, timeout.Token);
                }
                await response.Body.FlushAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The client left, its timeoutSeconds passed or the silo stops: the stream simply ends, as the API server's does.
        }
    }

    /// <summary>
    /// How long a watch stream lasts: <see cref="StreamLifetime"/> (until the client leaves or the silo begins to stop, so
    /// its client's reflector watches again elsewhere), or until its timeoutSeconds pass, counted from now:
    /// <paramref name="end"/> is that instant (null without timeoutSeconds), the one deadline its bookmarks are due before.
    /// </summary>
    internal static CancellationTokenSource Lifetime(HttpContext context, out DateTimeOffset? end)
    {
        var lifetime = StreamLifetime.Of(context);
        end = null;
        if (TimeoutSeconds(context.Request) is { } seconds)
        {
            var timeout = TimeSpan.FromSeconds(seconds);
            end = DateTimeOffset.UtcNow + timeout;
            lifetime.CancelAfter(timeout);
        }
        return lifetime;
    }

    /// <summary>The watch's timeoutSeconds, when it names a positive one.</summary>
    internal static int? TimeoutSeconds(HttpRequest request) =>
        int.TryParse(request.Query["timeoutSeconds"], out var seconds) && seconds > 0 ? seconds : null;

    /// <summary>
    /// A version this watch cannot start from, answered as the API server's watch cache answers it: once a watch's
    /// resourceVersion parses, its errors "must fail with a watch event of type ERROR, rather than a directly returned
    /// error" (apiserver pkg/storage/cacher/cacher.go, Cacher.Watch: newErrWatcher), so a 200 stream of one ERROR event
    /// carrying the <paramref name="status"/>. One older than the kept changes is the 410 Expired Status worded as
    /// watch_cache.go's getAllEventsSinceLocked words it ("too old resource version: %d (%d)", the second the oldest
    /// version it resumes from); one ahead is the 504 Timeout a watch-list (sendInitialEvents) gets when
    /// waitUntilFreshAndBlock gives up. client-go's reflector lists again on either; both were direct 410/504 answers.
    /// </summary>
    private static async Task WriteErrorEvent(HttpContext context, JsonObject status)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        await WriteEvent(context, "ERROR", status, context.RequestAborted);
    }

    /// <summary>One watch event, a JSON line as the API server streams it.</summary>
    internal static async Task WriteEvent(HttpContext context, string type, JsonNode body, CancellationToken cancellation)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = body }.ToJsonString() + "\n";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line), cancellation);
    }

    private static async Task Write(HttpContext context, KubeCache.Change change, bool table, Func<IKubernetesObject<V1ObjectMeta>, bool> selects, CancellationToken cancellation)
    {
        if (Seen(change, selects) is not var (type, obj)) return;
        JsonNode body = table
            ? KubeTables.Table<IKubernetesObject<V1ObjectMeta>>([obj], change.Version.ToString(), context.Request, DateTimeOffset.UtcNow)
            : KubeJson.ToNode(obj);
        await WriteEvent(context, type, body, cancellation);
    }

    /// <summary>
    /// What a watch with a selector sees of a change, as the API server's watch cache decides it (apiserver
    /// pkg/storage/cacher/cache_watcher.go, convertToWatchEvent): an object that starts matching is ADDED, one that
    /// matched before and after is MODIFIED, and one that stops matching is DELETED, carrying its last matching state
    /// with the change's resourceVersion; null when it matched neither before nor after.
    /// </summary>
    public static (string Type, IKubernetesObject<V1ObjectMeta> Object)? Seen(KubeCache.Change change, Func<IKubernetesObject<V1ObjectMeta>, bool> selects)
    {
        var matches = change.Type != "DELETED" && selects(change.Object);
        var matched = change.Previous is { } previous && selects(previous);
        return (matches, matched) switch
        {
            (true, false) => ("ADDED", change.Object),
            (true, true) => ("MODIFIED", change.Object),
            (false, true) => ("DELETED", change.Type == "DELETED" ? change.Object : KubeCache.Restamped(change.Previous!, change.Version)),
            _ => null,
        };
    }
}
