using System.Net;
using System.Text.Json;
using static MasOrleans.Silo.Tests.Kubectl.KubeHttp;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A watch-list, as a client-go informer with the WatchListClient feature asks for it: sendInitialEvents=true,
/// resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true. The API server's watch cache sends every object as it
/// is now (ADDED, from any version not older than the one named, not the changes since it: watch_cache.go,
/// getAllEventsSinceLocked), then a BOOKMARK carrying the annotation k8s.io/initial-events-end: "true" at the version it
/// read them (cacher.go, setInitialEventsEndBookmarkIfRequested); the informer waits for that bookmark before it is
/// synced. sendInitialEvents=false from no version starts from now. The parameters are judged as ValidateListOptions
/// judges them (staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go, WatchList on),
/// a refused combination 422 Invalid on ListOptions.meta.k8s.io. /k8s ignored all three: the bookmark never came,
/// a watch-list from a list's version got only the changes since, and refused combinations were served.
/// </summary>
public sealed class KubeWatchListTests(KubectlFixture kube) : IClassFixture<KubectlFixture>
{
    /// <summary>
    /// A watch-list read until its BOOKMARK (<see cref="Until"/>). Its timeout only bounds a test that fails: a watch's
    /// lifetime starts before its first look, which took over 2 s on a loaded machine, and a 2 s watch then ended before
    /// its initial events ("no BOOKMARK among").
    /// </summary>
    private const string WatchList = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=300";

    /// <summary>A watch read to its end: only where a test asserts something is absent, so its timeout is short.</summary>
    private async Task<List<(string Type, JsonElement Object)>> Events(string path)
    {
        var stream = await kube.Http.GetStringAsync(path);
        return stream.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Event).ToList();
    }

    /// <summary>A watch read line by line until an event <paramref name="last"/> picks (or the stream's end), then closed.</summary>
    private async Task<List<(string Type, JsonElement Object)>> Until(string path, Func<(string Type, JsonElement Object), bool> last)
    {
        using var response = await kube.Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string Type, JsonElement Object)>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0) continue;
            events.Add(Event(line));
            if (last(events[^1])) break;
        }
        return events;
    }

    private Task<List<(string Type, JsonElement Object)>> UntilBookmark(string path) => Until(path, e => e.Type == "BOOKMARK");

    private static (string Type, JsonElement Object) Event(string line)
    {
        var e = JsonDocument.Parse(line).RootElement;
        return (e.GetProperty("type").GetString()!, e.GetProperty("object").Clone());
    }

    private static string Name(JsonElement o) => o.GetProperty("metadata").GetProperty("name").GetString()!;

    private static long Version(JsonElement o) => long.Parse(o.GetProperty("metadata").GetProperty("resourceVersion").GetString()!);

    /// <summary>
    /// The initial events: every event before the stream's one BOOKMARK is ADDED, and the bookmark is the initial-events-end
    /// one of <paramref name="kind"/> (changes after it may follow). Answers the objects added and the bookmark's version.
    /// </summary>
    private static (List<JsonElement> Added, long Version) Initial(List<(string Type, JsonElement Object)> events, string kind, string apiVersion)
    {
        var at = events.FindIndex(e => e.Type == "BOOKMARK");
        Assert.True(at >= 0, $"no BOOKMARK among {string.Join(", ", events.Select(e => e.Type))}");
        Assert.Single(events, e => e.Type == "BOOKMARK");
        Assert.All(events.Take(at), e => Assert.Equal("ADDED", e.Type));
        var bookmark = events[at].Object;
        Assert.Equal((kind, apiVersion), (bookmark.GetProperty("kind").GetString(), bookmark.GetProperty("apiVersion").GetString()));
        Assert.Equal("true", bookmark.GetProperty("metadata").GetProperty("annotations").GetProperty("k8s.io/initial-events-end").GetString());
        return (events.Take(at).Select(e => e.Object).ToList(), Version(bookmark));
    }

    [Fact]
    public async Task A_pod_watch_list_sends_the_pods_as_they_are_from_a_lists_version_then_the_initial_events_end_bookmark()
    {
        Assert.Equal(HttpStatusCode.Created, (await kube.Http.PostAsync("api/v1/namespaces/default/pods", Json(PodJson("wl-pod", "wl")))).StatusCode);
        var list = JsonDocument.Parse(await kube.Http.GetStringAsync("api/v1/namespaces/default/pods?labelSelector=app%3Dwl")).RootElement;
        var listed = Version(list);

        // From the list's version: a plain watch sends only what changed since; a watch-list the pod as it is, as ADDED.
        var (added, read) = Initial(await UntilBookmark($"api/v1/namespaces/default/pods?labelSelector=app%3Dwl&resourceVersion={listed}&{WatchList}"), "Pod", "v1");
        Assert.Equal(["wl-pod"], added.Select(Name));
        Assert.True(read >= listed, $"the bookmark's version {read} is older than the list's {listed}");
        Assert.All(added, p => Assert.True(Version(p) <= read, $"{Name(p)} at {Version(p)} is after the bookmark's {read}"));

        // From no version too; without allowWatchBookmarks no bookmark comes (none was asked for).
        Assert.Equal(["wl-pod"], Initial(await UntilBookmark($"api/v1/namespaces/default/pods?labelSelector=app%3Dwl&{WatchList}"), "Pod", "v1").Added.Select(Name));
        var unmarked = await Events("api/v1/namespaces/default/pods?labelSelector=app%3Dwl&watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=2");
        Assert.Contains(unmarked, e => e.Type == "ADDED" && Name(e.Object) == "wl-pod");
        Assert.DoesNotContain(unmarked, e => e.Type == "BOOKMARK");
    }

    [Fact]
    public async Task A_node_watch_list_ends_with_a_node_bookmark_and_one_without_initial_events_sends_none()
    {
        (await kube.Run("apply", "-f", kube.Manifest("wl-node", KubeManifests.Node("wl-node", "wl")))).Succeeded();
        Assert.Equal(["wl-node"], Initial(await UntilBookmark($"api/v1/nodes?fieldSelector=metadata.name%3Dwl-node&{WatchList}"), "Node", "v1").Added.Select(Name));

        // sendInitialEvents=false from no version: from now, so the node already there is not sent (a plain watch sends it ADDED).
        var fromNow = await Events("api/v1/nodes?fieldSelector=metadata.name%3Dwl-node&watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&timeoutSeconds=2");
        Assert.DoesNotContain(fromNow, e => e.Type is "ADDED" or "BOOKMARK");
        Assert.Contains(await Until("api/v1/nodes?fieldSelector=metadata.name%3Dwl-node&watch=true&timeoutSeconds=300", e => e.Type == "ADDED"), e => e.Type == "ADDED");
    }

    /// <summary>
    /// Failed before (422 "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"): ?watch was read as
    /// "true" or "1" only, the other ListOptions bools as the API server reads a query bool (any case of "false", or "0",
    /// is false; anything else true: Convert_Slice_string_To_bool, staging/src/k8s.io/apimachinery/pkg/runtime/conversion.go),
    /// so watch=True was judged as a list.
    /// </summary>
    [Fact]
    public async Task A_watch_asked_for_as_True_is_a_watch()
    {
        (await kube.Run("apply", "-f", kube.Manifest("wl-cased", KubeManifests.Node("wl-cased", "wl")))).Succeeded();
        var cased = WatchList.Replace("watch=true", "watch=True", StringComparison.Ordinal);
        Assert.Equal(["wl-cased"], Initial(await UntilBookmark($"api/v1/nodes?fieldSelector=metadata.name%3Dwl-cased&{cased}"), "Node", "v1").Added.Select(Name));
    }

    /// <summary>Deployments and events are watched by looking (KubePolledWatch): the first look's objects, then the bookmark.</summary>
    [Fact]
    public async Task Deployment_and_event_watch_lists_end_their_first_look_with_the_bookmark()
    {
        (await kube.Run("apply", "-f", kube.Manifest("wl-deploy", KubeManifests.Deployment("wl-deploy", "wl-none")))).Succeeded();
        var deployments = Initial(await UntilBookmark($"apis/apps/v1/namespaces/default/deployments?fieldSelector=metadata.name%3Dwl-deploy&{WatchList}"), "Deployment", "apps/v1");
        Assert.Equal(["wl-deploy"], deployments.Added.Select(Name));

        var events = Initial(await UntilBookmark($"api/v1/namespaces/default/events?{WatchList}"), "Event", "v1");
        // The deployment's pod (no node has its label) has its events in the namespace by now, at least its Created.
        Assert.NotEmpty(events.Added);
    }

    /// <summary>ValidateListOptions' words, as its own test cases have them (validation_test.go in the same package).</summary>
    [Theory]
    [InlineData("api/v1/pods?watch=true&sendInitialEvents=true",
        "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")]
    [InlineData("api/v1/nodes?watch=true&resourceVersionMatch=NotOlderThan",
        "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")]
    [InlineData("apis/apps/v1/deployments?watch=true&sendInitialEvents=true&resourceVersionMatch=Exact&allowWatchBookmarks=true",
        "[resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"]")]
    [InlineData("api/v1/events?sendInitialEvents=false",
        "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list")]
    [InlineData("api/v1/namespaces/default/pods?resourceVersionMatch=NotOlderThan",
        "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")]
    public async Task Refused_list_options_are_422_on_ListOptions(string path, string causes)
    {
        using var response = await kube.Http.GetAsync(path);
        var status = await Status(response, HttpStatusCode.UnprocessableEntity, "Invalid");
        Assert.Equal($"ListOptions.meta.k8s.io \"\" is invalid: {causes}", status.GetProperty("message").GetString());
        var details = status.GetProperty("details");
        Assert.Equal(("ListOptions", "meta.k8s.io"), (details.GetProperty("kind").GetString(), details.GetProperty("group").GetString()));
    }
}
