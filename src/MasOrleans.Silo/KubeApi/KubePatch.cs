using System.Text.Json.Nodes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// PATCH bodies as kubectl sends them: JSON merge patch (RFC 7386), strategic merge patch, whose lists of named
/// objects (containers) merge by name, whose "$patch" directive replaces or deletes an object or list element and whose
/// "$retainKeys" drops the keys it does not list (apimachinery's strategicpatch; its other "$" directives only order what
/// is already there), and JSON Patch (RFC 6902, <see cref="KubeJsonPatch"/>).
/// </summary>
internal static class KubePatch
{
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>A PATCH body: its document (an object to merge, or JSON Patch's list of operations) and its media type.</summary>
    public sealed record Body(JsonNode Document, string MediaType)
    {
        public bool Strategic => MediaType == StrategicMergePatch;
    }

    /// <summary>The request's patch, or null with an error Status for a media type this server does not apply.</summary>
    public static async Task<(Body? Patch, IResult? Error)> Read(HttpContext context)
    {
        var mediaType = (context.Request.ContentType ?? "").Split(';')[0].Trim();
        if (mediaType is not (MergePatch or StrategicMergePatch or KubeJsonPatch.MediaType)) return (null, KubeStatus.UnsupportedMediaType(mediaType, KubeJsonPatch.MediaType, MergePatch, StrategicMergePatch));
        JsonNode? patch;
        try
        {
            patch = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (System.Text.Json.JsonException e)
        {
            return (null, KubeStatus.BadRequest($"the patch is not valid JSON: {e.Message}"));
        }
        if (mediaType == KubeJsonPatch.MediaType)
        {
            if (patch is not JsonArray operations) return (null, KubeStatus.BadRequest("a JSON Patch must be a list of operations"));
            if (KubeJsonPatch.Malformed(operations) is { } malformed) return (null, KubeStatus.BadRequest(malformed));
            return (new Body(operations, mediaType), null);
        }
        if (patch is not JsonObject document) return (null, KubeStatus.BadRequest("the patch must be a JSON object"));
        return (new Body(document, mediaType), null);
    }

    /// <summary>
    /// The object a patch applies to: the current object as served, without its resourceVersion, so a resourceVersion
    /// in the result is the patch's own (which the API server treats as a precondition).
    /// </summary>
    private static JsonObject Target(object current)
    {
        var target = (JsonObject)KubeJson.ToNode(current);
        (target["metadata"] as JsonObject)?.Remove("resourceVersion");
        return target;
    }

    /// <summary>
    /// The patched document, or null with the Status for a patch that does not apply: 400 for a directive a strategic
    /// merge patch cannot carry, 422 for a JSON Patch operation that does not apply, as the API server answers them.
    /// </summary>
    private static (JsonNode? Patched, IResult? Error) Apply(JsonObject target, Body patch)
    {
        if (patch.Document is JsonArray operations)
        {
            try
            {
                return (KubeJsonPatch.Apply(target, operations), null);
            }
            catch (InvalidPatchException e)
            {
                return (null, KubeStatus.Failure(422, "Invalid", e.Message));
            }
        }
        try
        {
            return (Merge(target, patch.Document, patch.Strategic), null);
        }
        catch (InvalidPatchException e)
        {
            // strategicpatch's malformed-patch errors; the API server answers most of them 400 (interpretStrategicMergePatchError).
            return (null, KubeStatus.BadRequest(e.Message));
        }
    }

    /// <summary>
    /// The patched document as <typeparamref name="T"/>. One that does not decode (a name that is a number, an
    /// annotation that is not a string) is 422 Invalid on the field "patch", as the API server's patch handler answers,
    /// naming neither kind nor object: NewInvalid(schema.GroupKind{}, "", ...) for whatever was patched
    /// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go, applyPatchToCurrentObject and applyPatchToObject).
    /// Its value, quoted as field.Invalid quotes a string, is what the handler failed to decode: a JSON Patch's or merge
    /// patch's patched object as JSON (jsonPatcher: string(patchedObjJS)), a strategic merge patch's patch as Go prints
    /// the map it decoded it into (applyPatchToObject: fmt.Sprintf("%+v", patchMap)).
    /// </summary>
    private static BodyResult<T> Decode<T>(HttpContext context, JsonNode patched, Body patch) where T : class
    {
        // Quoted as the handler quotes Go's json.Marshal output: non-ASCII as it is (the default encoder escapes it).
        var text = GoValues.Json(patched);
        return KubeJson.Parse<T>(context, text, message =>
            KubeStatus.Invalid("", "", "patch", $"{GoValues.Quoted(patch.Strategic ? GoValues.PlusV(patch.Document) : text)}: {message}"));
    }

    /// <summary>
    /// The patch applied to <paramref name="current"/> as served (<see cref="Target"/>, <see cref="Apply"/>,
    /// <see cref="Decode{T}"/>): the patched object, or the Status of the first step that failed.
    /// </summary>
    /// <param name="prepare">Adjusts the target before the merge (the stand-in container a manifest's containers replace).</param>
    public static BodyResult<T> ApplyTo<T>(HttpContext context, Body patch, object current, Action<JsonObject>? prepare = null) where T : class
    {
        var target = Target(current);
        prepare?.Invoke(target);
        var (patched, error) = Apply(target, patch);
        return error is not null ? new(null, null, error) : Decode<T>(context, patched!, patch);
    }

    /// <summary>The node at <paramref name="path"/> through objects only (a patch may hold anything anywhere), or null.</summary>
    public static JsonNode? At(JsonNode? node, params string[] path)
    {
        foreach (var step in path) node = (node as JsonObject)?[step];
        return node;
    }

    /// <summary>The patch merged onto a copy of the target.</summary>
    /// <exception cref="InvalidPatchException">A "$patch" directive that is not "replace" or "delete" (or not a string), or a malformed "$retainKeys".</exception>
    public static JsonNode? Merge(JsonNode? target, JsonNode? patch, bool strategic)
    {
        if (strategic && patch is JsonArray patchList && target is JsonArray targetList) return MergeList(targetList, patchList);
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        if (strategic && patchObject.TryGetPropertyValue(DirectiveKey, out var directive))
        {
            if (Directive(directive, patchObject) == Delete) return new JsonObject();
            var replacement = (JsonObject)patchObject.DeepClone();
            replacement.Remove(DirectiveKey);
            return Merge(null, replacement, strategic);
        }
        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        // "$retainKeys" drops the target's keys it does not list (applyRetainKeysDirective in apimachinery's
        // strategicpatch/patch.go), so kubectl apply can turn a RollingUpdate strategy into Recreate, which may not keep
        // rollingUpdate. As there, it must be a list naming every key the patch sets (a null, which removes, and the
        // list directives excepted); anything else is ErrBadPatchFormatForRetainKeys, a 400.
        if (strategic && patchObject.TryGetPropertyValue(RetainKeysKey, out var retainKeys))
        {
            if (retainKeys is not JsonArray retained) throw new InvalidPatchException(BadRetainKeys);
            var listed = retained.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var kept) ? kept : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
            if (patchObject.Any(p => p.Key != RetainKeysKey && p.Value is not null && !p.Key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal)
                    && !p.Key.StartsWith("$setElementOrder/", StringComparison.Ordinal) && !listed.Contains(p.Key)))
                throw new InvalidPatchException(BadRetainKeys);
            foreach (var key in result.Select(p => p.Key).Where(k => !listed.Contains(k)).ToList())
                result.Remove(key);
        }
        foreach (var (key, value) in patchObject)
        {
            if (strategic && key.StartsWith('$')) continue;
            if (value is null) result.Remove(key);
            else result[key] = Merge(result[key], value, strategic);
        }
        return result;
    }

    private const string DirectiveKey = "$patch";
    private const string RetainKeysKey = "$retainKeys";
    private const string BadRetainKeys = "invalid patch format of retainKeys"; // mergepatch.ErrBadPatchFormatForRetainKeys
    private const string Replace = "replace";
    private const string Delete = "delete";

    /// <summary>A list with a {"$patch": "replace"} element is the patch's other elements; named elements merge by name.</summary>
    private static JsonArray MergeList(JsonArray target, JsonArray patch)
    {
        var replace = false;
        foreach (var element in patch.OfType<JsonObject>().Where(e => e.ContainsKey(DirectiveKey)))
        {
            if (Directive(element[DirectiveKey], element) == Replace) replace = true;
            else if (element["name"] is null) throw new InvalidPatchException($"map: {element.ToJsonString()} does not contain declared merge key: name");
        }
        if (replace) return new JsonArray(patch.Where(e => e is not JsonObject o || !o.ContainsKey(DirectiveKey)).Select(e => e?.DeepClone()).ToArray());
        if (!IsNamed(patch) || !IsNamed(target)) return (JsonArray)patch.DeepClone();
        var result = (JsonArray)target.DeepClone();
        foreach (var element in patch.Cast<JsonObject>())
        {
            // Names compare as JSON: a patch may name an element with a number, which then matches nothing.
            var index = result.Select((e, i) => (e, i)).FirstOrDefault(x => JsonNode.DeepEquals(x.e!["name"], element["name"]), (null, -1)).Item2;
            var delete = element.ContainsKey(DirectiveKey);
            if (index >= 0 && delete) result.RemoveAt(index);
            else if (index >= 0) result[index] = Merge(result[index], element, strategic: true);
            else if (!delete) result.Add(Merge(null, element, strategic: true));
        }
        return result;
    }

    private static bool IsNamed(JsonArray list) => list.All(e => e is JsonObject o && o["name"] is JsonValue);

    /// <summary>"replace" or "delete", as strategicpatch accepts; anything else is its ErrBadPatchType.</summary>
    private static string Directive(JsonNode? value, JsonObject where) =>
        value is JsonValue v && v.TryGetValue<string>(out var directive) && directive is Replace or Delete
            ? directive
            : throw new InvalidPatchException($"unknown patch type: {value?.ToJsonString() ?? "null"} in map: {where.ToJsonString()}");

    public sealed class InvalidPatchException(string message) : Exception(message);
}
