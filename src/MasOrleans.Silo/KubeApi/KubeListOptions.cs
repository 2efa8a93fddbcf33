using System.Text.Json.Nodes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A list's or watch's sendInitialEvents and allowWatchBookmarks (metav1.ListOptions), read as the API server's query
/// conversion reads a bool (present and neither "0" nor "false", in any case, is true: Convert_Slice_string_To_Pointer_bool,
/// staging/src/k8s.io/apimachinery/pkg/runtime/conversion.go), with resourceVersionMatch judged as ValidateListOptions
/// judges them with the WatchList feature on (staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/
/// validation.go): a refused combination is 422 Invalid on ListOptions.meta.k8s.io, naming every cause. The one reading
/// every /k8s list and watch takes (<see cref="KubeLists.TrySelectors"/>).
/// </summary>
internal sealed record KubeListOptions(bool? SendInitialEvents, bool AllowWatchBookmarks)
{
    /// <summary>Neither asked for: what a request refused before its options were read carries.</summary>
    public static readonly KubeListOptions None = new(null, false);

    /// <summary>The annotation on the bookmark that ends a watch's initial events (metav1.InitialEventsAnnotationKey).</summary>
    public const string InitialEventsEnd = "k8s.io/initial-events-end";

    public const string NotOlderThan = "NotOlderThan";
    public const string Exact = "Exact";

    /// <summary>
    /// The watch sends the objects as they are now (each ADDED), from any resourceVersion not older than the one named,
    /// before any change: the watch-list a client-go informer with WatchListClient asks for.
    /// </summary>
    public bool SendsInitialEvents => SendInitialEvents == true;

    /// <summary>
    /// The watch starts from now without the objects as they are, when it names no resourceVersion or "0" (the watch
    /// cache's getAllEventsSinceLocked: sendInitialEvents=false with resourceVersion 0 watches from its current version).
    /// </summary>
    public bool SkipsInitialEvents => SendInitialEvents == false;

    /// <summary>
    /// The initial events end with a BOOKMARK annotated <see cref="InitialEventsEnd"/>: asked for with sendInitialEvents and
    /// allowWatchBookmarks both (Cacher.setInitialEventsEndBookmarkIfRequested, staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go).
    /// </summary>
    public bool EndsInitialEventsWithBookmark => SendsInitialEvents && AllowWatchBookmarks;

    public static IResult? TryRead(HttpRequest request, out KubeListOptions options)
    {
        var query = request.Query;
        options = new KubeListOptions(Bool(query, "sendInitialEvents"), Bool(query, "allowWatchBookmarks") == true);
        var match = query["resourceVersionMatch"].FirstOrDefault() ?? "";
        var version = query["resourceVersion"].FirstOrDefault() ?? "";
        var continues = !string.IsNullOrEmpty(query["continue"].FirstOrDefault());
        var causes = KubeWatch.Requested(request) ? WatchCauses(options, match, continues) : ListCauses(options, match, version, continues);
        return causes.Count == 0 ? null : KubeStatus.Unprocessable("ListOptions.meta.k8s.io", "", causes);
    }

    /// <summary>
    /// A ListOptions bool in the query (watch, sendInitialEvents, allowWatchBookmarks) as the API server reads it: absent
    /// null; "0" or "false" in any case false; anything else, empty too, true.
    /// </summary>
    public static bool? Bool(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values)) return null;
        var value = values.FirstOrDefault() ?? "";
        return !(value == "0" || value.Equals("false", StringComparison.OrdinalIgnoreCase));
    }

    private static List<KubeStatus.Cause> WatchCauses(KubeListOptions options, string match, bool continues)
    {
        var causes = new List<KubeStatus.Cause>();
        if (options.SendInitialEvents is not null && match != NotOlderThan)
            causes.Add(Forbidden("resourceVersionMatch", $"sendInitialEvents requires setting resourceVersionMatch to {NotOlderThan}"));
        if (match.Length > 0)
        {
            if (options.SendInitialEvents is null) causes.Add(Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
            if (match != NotOlderThan) causes.Add(NotSupported("resourceVersionMatch", match, NotOlderThan));
            if (continues) causes.Add(Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
        }
        return causes;
    }

    private static List<KubeStatus.Cause> ListCauses(KubeListOptions options, string match, string version, bool continues)
    {
        var causes = new List<KubeStatus.Cause>();
        if (match.Length > 0)
        {
            if (version.Length == 0) causes.Add(Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
            if (continues) causes.Add(Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
            if (match is not (Exact or NotOlderThan)) causes.Add(NotSupported("resourceVersionMatch", match, Exact, NotOlderThan, ""));
            if (match == Exact && version == "0") causes.Add(Forbidden("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
        }
        if (options.SendInitialEvents is not null) causes.Add(Forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
        return causes;
    }

    private static KubeStatus.Cause Forbidden(string field, string why) => new(field, "FieldValueForbidden", $"Forbidden: {why}");

    private static KubeStatus.Cause NotSupported(string field, string value, params string[] supported) =>
        new(field, "FieldValueNotSupported", $"Unsupported value: {GoValues.Quoted(value)}: supported values: {string.Join(", ", supported.Select(s => $"\"{s}\""))}");

    /// <summary>
    /// The BOOKMARK that ends the initial events: an empty object of the watched kind carrying only the version the
    /// initial events were read at and the <see cref="InitialEventsEnd"/> annotation, as the watch cache makes it (its
    /// newFunc's object with the version set; the annotation is added in cacheWatcher.convertToWatchEvent).
    /// </summary>
    public static JsonObject InitialEventsEndBookmark(Type kind, string resourceVersion) =>
        KubeWatchBookmarks.Bookmark(kind, resourceVersion, new JsonObject { [InitialEventsEnd] = "true" });
}
