using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using MasOrleans.Silo.Observability;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// ?watch=true on what <see cref="KubeCache"/> does not list: deployments (kubectl rollout status, kubectl wait, kubectl
/// get deploy -w), events (kubectl get events -w) and namespaces. The watch looks at the selected objects itself each
/// second and sends what changed, at the object's own version (deployments') or else stamped with the cache's (which the
/// cache's own polling moves while any watch is open, as pods change; a deletion always takes the cache's): everything as ADDED when the client names no resourceVersion, else each object once as
/// MODIFIED (so nothing changed between the client's list and this watch is missed), then ADDED, MODIFIED and DELETED
/// as they come. It keeps no history, so a watch resumed from an older version may miss a deletion. A watch-list
/// (sendInitialEvents=true, <see cref="KubeListOptions"/>) gets every object as ADDED, then, with allowWatchBookmarks, the
/// BOOKMARK ending the initial events at the first look's version; sendInitialEvents=false from no version sends only changes.
/// With allowWatchBookmarks it also sends the periodic BOOKMARKs (<see cref="KubeWatchBookmarks"/>) at the look's version.
/// </summary>
internal static class KubePolledWatch
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <param name="select">The objects the request selects now (each without a version of its own is stamped with the cache's version after the look).</param>
    /// <param name="options">The request's list options, judged and read with its selectors (<see cref="KubeLists.TrySelectors"/>).</param>
    public static async Task Serve<T>(HttpContext context, KubeCache cache, KubeListOptions options, Func<Task<IReadOnlyList<T>>> select) where T : IKubernetesObject<V1ObjectMeta>
    {
        var request = context.Request;
        var table = KubeTables.Wanted(request);
        var named = request.Query["resourceVersion"].ToString() is not ("" or "0");
        // A watch-list (sendInitialEvents) gets every object as ADDED from any version; sendInitialEvents=false from no
        // version starts from now, its first look only remembered.
        var fresh = !named || options.SendsInitialEvents;
        var quietFirst = !named && options.SkipsInitialEvents;
        // Keeps the cache polling, so versions move as pods change.
        using var polling = cache.KeepPolling();
        using var timeout = KubeWatch.Lifetime(context, out var end);
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        var sent = new Dictionary<string, (string Fingerprint, T Last)>();
        try
        {
            await response.StartAsync(timeout.Token);
            var first = true;
            KubeWatchBookmarks? bookmarks = null;
            while (!timeout.IsCancellationRequested)
            {
                IReadOnlyList<T> current;
                try
                {
                    current = await select();
                }
                catch (Exception e) when (Outage.Is(e, timeout.Token))
                {
                    // The next look tries again; the watch stays open as it would across an API server hiccup.
                    await Task.Delay(PollInterval, timeout.Token);
                    continue;
                }
                // Read after the look, which may refresh the cache: what it saw is then no newer than its stamp.
                var looked = cache.Version;
                var version = looked.ToString();
                var seen = new HashSet<string>();
                foreach (var item in current)
                {
                    var key = $"{item.Metadata.NamespaceProperty}/{item.Metadata.Name}";
                    seen.Add(key);
                    // An object with a version of its own (a deployment, KubeCache.ReadDeployment) keeps it, so what a watch
                    // sends is what a GET serves and an update of it applies; the others take the cache's.
                    var own = item.Metadata.ResourceVersion;
                    item.Metadata.ResourceVersion = null;
                    // An object's own version names its state (a new one for each rendering, and for an A->B->A between
                    // looks or a delete and re-create rendered alike, which must still be sent, or a client updating the
                    // watched object sends a version gone: 409), so it is what changed; the others are compared whole.
                    var fingerprint = string.IsNullOrEmpty(own) ? KubernetesJson.Serialize(item) : $"@{own}";
                    item.Metadata.ResourceVersion = string.IsNullOrEmpty(own) ? version : own;
                    var known = sent.TryGetValue(key, out var before);
                    if (known && before.Fingerprint == fingerprint) continue;
                    sent[key] = (fingerprint, item);
                    if (first && quietFirst) continue;
                    await Write(context, !known && (fresh || !first) ? "ADDED" : "MODIFIED", item, table, timeout.Token);
                }
                foreach (var gone in sent.Keys.Where(k => !seen.Contains(k)).ToList())
                {
                    var last = sent[gone].Last;
                    last.Metadata.ResourceVersion = version;
                    sent.Remove(gone);
                    await Write(context, "DELETED", last, table, timeout.Token);
                }
                if (first && options.EndsInitialEventsWithBookmark)
                    await KubeWatch.WriteEvent(context, "BOOKMARK", KubeListOptions.InitialEventsEndBookmark(typeof(T), version), timeout.Token);
                // Each look is the tick at which a periodic bookmark due is sent, carrying the look's version: everything
                // it saw has been sent.
                if (first) bookmarks = KubeWatchBookmarks.For(context, options, looked, DateTimeOffset.UtcNow, end);
                else if (bookmarks?.Take(typeof(T), looked, DateTimeOffset.UtcNow) is { } bookmark)
                    await KubeWatch.WriteEvent(context, "BOOKMARK", bookmark, timeout.Token);
                await response.Body.FlushAsync(timeout.Token);
                first = false;
                await Task.Delay(PollInterval, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The client left, its timeoutSeconds passed or the silo stops (KubeWatch.Lifetime): the stream simply ends.
        }
    }

    private static async Task Write<T>(HttpContext context, string type, T item, bool table, CancellationToken cancellation) where T : IKubernetesObject<V1ObjectMeta>
    {
        JsonNode body = table
            ? KubeTables.Table<T>([item], item.Metadata.ResourceVersion ?? "", context.Request, DateTimeOffset.UtcNow)
            : KubeJson.ToNode(item);
        await KubeWatch.WriteEvent(context, type, body, cancellation);
    }
}
