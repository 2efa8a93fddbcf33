using System.Text.Json.Nodes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// PATCH bodies as kubectl sends them: JSON merge patch (RFC 7386) and strategic merge patch, whose lists of
/// named objects (containers) merge by name and whose "$" directives only order or retain what is already there.
/// </summary>
internal static class KubePatch
{
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>A PATCH body: its document and whether it is a strategic merge patch.</summary>
    public sealed record Body(JsonObject Document, bool Strategic);

    /// <summary>The request's patch, or null with an error Status for a media type this server does not apply.</summary>
    public static async Task<(Body? Patch, IResult? Error)> Read(HttpContext context)
    {
        var mediaType = (context.Request.ContentType ?? "").Split(';')[0].Trim();
        if (mediaType is not (MergePatch or StrategicMergePatch)) return (null, KubeStatus.UnsupportedMediaType(mediaType));
        JsonNode? patch;
        try
        {
            patch = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (System.Text.Json.JsonException e)
        {
            return (null, KubeStatus.BadRequest($"the patch is not valid JSON: {e.Message}"));
        }
        if (patch is not JsonObject document) return (null, KubeStatus.BadRequest("the patch must be a JSON object"));
        return (new Body(document, mediaType == StrategicMergePatch), null);
    }

    /// <summary>
    /// The object a patch applies to: the current object as served, without its resourceVersion, so a resourceVersion
    /// in the result is the patch's own (which the API server treats as a precondition).
    /// </summary>
    public static JsonObject Target(object current)
    {
        var target = (JsonObject)KubeJson.ToNode(current);
        (target["metadata"] as JsonObject)?.Remove("resourceVersion");
        return target;
    }

    public static JsonNode Apply(JsonObject target, Body patch) => Merge(target, patch.Document, patch.Strategic)!;

    /// <summary>The node at <paramref name="path"/> through objects only (a patch may hold anything anywhere), or null.</summary>
    public static JsonNode? At(JsonNode? node, params string[] path)
    {
        foreach (var step in path) node = (node as JsonObject)?[step];
        return node;
    }

    public static JsonNode? Merge(JsonNode? target, JsonNode? patch, bool strategic)
    {
        if (patch is JsonArray patchList && strategic && target is JsonArray targetList && IsNamed(patchList) && IsNamed(targetList))
            return MergeByName(targetList, patchList);
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (strategic && key.StartsWith('$')) continue;
            if (value is null) result.Remove(key);
            else result[key] = Merge(result[key], value, strategic);
        }
        return result;
    }

    private static bool IsNamed(JsonArray list) => list.All(e => e is JsonObject o && o["name"] is JsonValue);

    private static JsonArray MergeByName(JsonArray target, JsonArray patch)
    {
        var result = (JsonArray)target.DeepClone();
        foreach (var element in patch.Cast<JsonObject>())
        {
            var name = element["name"]!.GetValue<string>();
            var index = result.Select((e, i) => (e, i)).FirstOrDefault(x => x.e!["name"]!.GetValue<string>() == name, (null, -1)).Item2;
            var delete = element["$patch"]?.GetValue<string>() == "delete";
            if (index >= 0 && delete) result.RemoveAt(index);
            else if (index >= 0) result[index] = Merge(result[index], element, strategic: true);
            else if (!delete) result.Add(Merge(null, element, strategic: true));
        }
        return result;
    }
}
