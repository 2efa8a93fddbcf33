using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MasOrleans.Silo.KubeApi;

/// <summary>Lists and single objects as the client asked: a Table for kubectl's printing, else the typed object or List.</summary>
internal static class KubeLists
{
    public static IResult List<T>(HttpContext context, IReadOnlyList<T> items, string listKind, string apiVersion, long version)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        if (KubeTables.Wanted(context.Request)) return KubeJson.Node(KubeTables.Table(items, version.ToString(), context.Request, DateTimeOffset.UtcNow));
        return KubeJson.Node(new JsonObject
        {
            ["kind"] = listKind,
            ["apiVersion"] = apiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = version.ToString() },
            ["items"] = new JsonArray(items.Select(i => KubeJson.ToNode(i)).ToArray()),
        });
    }

    public static IResult One<T>(HttpContext context, T item, int status = 200) where T : IKubernetesObject<V1ObjectMeta>
    {
        if (KubeTables.Wanted(context.Request))
            return KubeJson.Node(KubeTables.Table<T>([item], item.Metadata.ResourceVersion ?? "", context.Request, DateTimeOffset.UtcNow), status);
        return KubeJson.Object(item, status);
    }

    /// <summary>
    /// ?labelSelector and ?fieldSelector together, or the Status saying which one is malformed; also the request's list
    /// options as the API server judges them (<see cref="KubeListOptions"/>), read once here for the watch that follows.
    /// </summary>
    public static IResult? TrySelectors(HttpRequest request, IReadOnlySet<string> fields, out KubeSelector labels, out KubeSelector fieldSelector, out KubeListOptions options)
    {
        fieldSelector = KubeSelector.All;
        options = KubeListOptions.None;
        if (KubeSelector.TryParseLabels(request.Query["labelSelector"], out labels) is { } labelError) return KubeStatus.BadRequest(labelError);
        if (KubeSelector.TryParseFields(request.Query["fieldSelector"], fields, out fieldSelector) is { } fieldError) return KubeStatus.BadRequest(fieldError);
        // After the selectors, as the API server decodes the parameters (selectors included) before it validates them.
        return KubeListOptions.TryRead(request, out options);
    }
}
