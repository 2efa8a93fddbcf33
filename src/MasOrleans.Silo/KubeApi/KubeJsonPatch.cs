using System.Text.Json.Nodes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// JSON Patch (RFC 6902), what kubectl patch --type=json sends: a list of operations (add, remove, replace, move, copy,
/// test) at JSON Pointers (RFC 6901). The API server decodes the list first (a malformed one is 400) and then applies
/// it (an operation that does not apply is 422), as staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go does
/// with evanphx/json-patch.
/// </summary>
internal static class KubeJsonPatch
{
    public const string MediaType = "application/json-patch+json";

    private static readonly string[] Operations = ["add", "remove", "replace", "move", "copy", "test"];

    /// <summary>Why the list is not a JSON Patch, or null when every operation is well formed.</summary>
    public static string? Malformed(JsonArray operations)
    {
        for (var i = 0; i < operations.Count; i++)
        {
            if (operations[i] is not JsonObject operation) return $"operation {i} is not a JSON object";
            var op = Text(operation, "op");
            if (op is null || !Operations.Contains(op)) return $"operation {i}: unknown or missing \"op\" ({operation["op"]?.ToJsonString() ?? "none"}); expected one of {string.Join(", ", Operations)}";
            if (Text(operation, "path") is not { } path || !IsPointer(path)) return $"operation {i} ({op}): \"path\" must be a JSON Pointer such as \"/metadata/labels/app\"";
            if (op is "move" or "copy" && (Text(operation, "from") is not { } from || !IsPointer(from)))
                return $"operation {i} ({op}): \"from\" must be a JSON Pointer";
            if (op is "add" or "replace" or "test" && !operation.ContainsKey("value")) return $"operation {i} ({op}): \"value\" is required";
        }
        return null;
    }

    /// <summary>The operations applied in order to a copy of <paramref name="document"/>.</summary>
    /// <exception cref="KubePatch.InvalidPatchException">An operation that does not apply (a missing path, a failed test).</exception>
    public static JsonNode? Apply(JsonNode document, JsonArray operations)
    {
        // A root holder, so the pointer "" (the whole document) is a member like any other.
        var root = new JsonObject { [""] = document.DeepClone() };
        foreach (var operation in operations.Cast<JsonObject>())
        {
            var op = Text(operation, "op")!;
            var path = Text(operation, "path")!;
            switch (op)
            {
                case "add": Add(root, path, operation["value"]?.DeepClone(), op); break;
                case "remove": Remove(root, path, op); break;
                case "replace": Remove(root, path, op); Add(root, path, operation["value"]?.DeepClone(), op); break;
                case "move":
                    var from = Text(operation, "from")!;
                    if (path.StartsWith(from + "/", StringComparison.Ordinal)) throw Fails(op, path, $"\"from\" ({from}) contains the path");
                    Add(root, path, Remove(root, from, op), op);
                    break;
                case "copy": Add(root, path, Get(root, Text(operation, "from")!, op)?.DeepClone(), op); break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path, op), operation["value"])) throw Fails(op, path, "the value there is not the value tested");
                    break;
            }
        }
        return root[""];
    }

    private static string? Text(JsonObject operation, string key) => operation[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool IsPointer(string path) => path.Length == 0 || path[0] == '/';

    /// <summary>The container holding the pointer's target and the target's token (RFC 6901: "~1" is "/", "~0" is "~").</summary>
    private static (JsonNode Parent, string Token) Locate(JsonObject root, string pointer, string op)
    {
        var tokens = pointer.Length == 0 ? [] : pointer[1..].Split('/').Select(t => t.Replace("~1", "/").Replace("~0", "~")).ToArray();
        JsonNode parent = root;
        var token = "";
        foreach (var next in tokens)
        {
            parent = Child(parent, token) ?? throw Fails(op, pointer, "no such path");
            token = next;
        }
        return (parent, token);
    }

    private static JsonNode? Child(JsonNode parent, string token) => parent switch
    {
        JsonObject o => o[token],
        JsonArray a when Index(a, token, allowEnd: false) is { } i => a[i],
        _ => null,
    };

    private static int? Index(JsonArray array, string token, bool allowEnd)
    {
        if (allowEnd && token == "-") return array.Count;
        var valid = token.Length > 0 && token.All(char.IsAsciiDigit) && (token.Length == 1 || token[0] != '0');
        return valid && int.TryParse(token, out var i) && i < array.Count + (allowEnd ? 1 : 0) ? i : null;
    }

    private static JsonNode? Get(JsonObject root, string pointer, string op)
    {
        var (parent, token) = Locate(root, pointer, op);
        return parent switch
        {
            JsonObject o when o.TryGetPropertyValue(token, out var value) => value,
            JsonArray a when Index(a, token, allowEnd: false) is { } i => a[i],
            _ => throw Fails(op, pointer, "no such path"),
        };
    }

    private static void Add(JsonObject root, string pointer, JsonNode? value, string op)
    {
        var (parent, token) = Locate(root, pointer, op);
        switch (parent)
        {
            case JsonObject o: o[token] = value; break;
            case JsonArray a when Index(a, token, allowEnd: true) is { } i: a.Insert(i, value); break;
            default: throw Fails(op, pointer, parent is JsonArray ? "the index is out of range" : "its parent is not an object or a list");
        }
    }

    private static JsonNode? Remove(JsonObject root, string pointer, string op)
    {
        var (parent, token) = Locate(root, pointer, op);
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(token, out var value):
                o.Remove(token);
                return value;
            case JsonArray a when Index(a, token, allowEnd: false) is { } i:
                var item = a[i];
                a.RemoveAt(i);
                return item;
            default:
                throw Fails(op, pointer, "no such path");
        }
    }

    private static KubePatch.InvalidPatchException Fails(string op, string pointer, string why) =>
        new($"the {op} operation at \"{pointer}\" does not apply: {why}");
}
