using System.Reflection;
using System.Text.Json.Nodes;
using k8s.Models;
using MasOrleans.Silo.Configuration;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// When a watch sends its periodic BOOKMARK, one rule for every /k8s watch (<see cref="KubeWatch"/>,
/// <see cref="KubePolledWatch"/>), as the API server's watch cache sends them to a watch with allowWatchBookmarks
/// (cacheWatcher.nextBookmarkTime, staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go): every
/// <see cref="KubeApiOptions.WatchBookmarkSeconds"/> (a minute, defaultBookmarkFrequency in cacher.go), and 2 s before
/// the watch's timeoutSeconds end when that comes first, so a client's resourceVersion stays fresh and a watch started
/// again after a quiet spell is not 410 Expired. The cache's 1 to 1.25 s dispatch tick (wait.Jitter(time.Second, 0.25)
/// in Cacher.dispatchEvents) is its only jitter: here the stream's own wait is the tick. As cacheWatcher.process sends
/// only events newer than the version the watch started from, a bookmark is sent only once the watch's version has
/// moved past it.
/// </summary>
internal sealed class KubeWatchBookmarks
{
    /// <summary>cacheWatcher.nextBookmarkTime's "2s before the deadline".</summary>
    public static readonly TimeSpan BeforeTimeout = TimeSpan.FromSeconds(2);

    private readonly TimeSpan _interval;
    private readonly DateTimeOffset? _end;
    private readonly long _from;
    private DateTimeOffset? _next;

    /// <param name="from">The version the watch started from: the first bookmark must carry a newer one.</param>
    private KubeWatchBookmarks(TimeSpan interval, DateTimeOffset now, DateTimeOffset? end, long from)
    {
        _interval = interval;
        _end = end;
        _from = from;
        _next = NextAfter(now);
    }

    /// <summary>The watch's bookmarks, or null when it did not ask for them (allowWatchBookmarks).</summary>
    /// <param name="now">When the first interval starts: the watch's initial events are sent.</param>
    /// <param name="end">When the watch's timeoutSeconds end, the instant its lifetime was armed with
    /// (<see cref="KubeWatch.Lifetime"/>), so the bookmark 2 s before it comes before the stream ends however long the
    /// initial events took; null when it has none.</param>
    public static KubeWatchBookmarks? For(HttpContext context, KubeListOptions options, long from, DateTimeOffset now, DateTimeOffset? end)
    {
        if (!options.AllowWatchBookmarks) return null;
        var seconds = context.RequestServices.GetRequiredService<IOptions<KubeApiOptions>>().Value.WatchBookmarkSeconds;
        return new KubeWatchBookmarks(TimeSpan.FromSeconds(seconds), now, end, from);
    }

    /// <summary>How long until the next bookmark is due (zero when it is), or null when none is to come.</summary>
    public TimeSpan? DueIn(DateTimeOffset now) => _next is { } next ? (next > now ? next - now : TimeSpan.Zero) : null;

    /// <summary>
    /// The bookmark due at <paramref name="now"/> carrying <paramref name="version"/>, everything up to which the watch
    /// has sent, and the next one scheduled; null when none is due or the version has not moved past the watch's start.
    /// </summary>
    public JsonObject? Take(Type kind, long version, DateTimeOffset now)
    {
        if (DueIn(now) != TimeSpan.Zero) return null;
        _next = NextAfter(now);
        return version > _from ? Bookmark(kind, version.ToString()) : null;
    }

    private DateTimeOffset? NextAfter(DateTimeOffset now)
    {
        var next = now + _interval;
        if (_end is { } end && end - BeforeTimeout < next) next = end - BeforeTimeout;
        // A time not after now schedules none: the one before the timeout was the last.
        return next <= now ? null : next;
    }

    /// <summary>
    /// A BOOKMARK's object: an empty object of the watched kind carrying only the resourceVersion (the watch cache's
    /// newFunc() with the version set), <paramref name="annotations"/> added to its metadata when given.
    /// </summary>
    public static JsonObject Bookmark(Type kind, string resourceVersion, JsonObject? annotations = null)
    {
        var entity = kind.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{kind.Name} is not a Kubernetes entity", nameof(kind));
        var metadata = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (annotations is not null) metadata["annotations"] = annotations;
        return new JsonObject
        {
            ["kind"] = entity.Kind,
            ["apiVersion"] = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}",
            ["metadata"] = metadata,
        };
    }
}
