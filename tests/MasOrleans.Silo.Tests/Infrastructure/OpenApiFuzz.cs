using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>One route from the Swagger document: method, path template, its path and query parameters and body schema.</summary>
public sealed record FuzzOperation(string Method, string Template, IReadOnlyList<string> PathParameters,
    IReadOnlyList<(string Name, JsonElement Schema)> Query, JsonElement? Body);

/// <summary>A generated request: what is sent, and a short description for failure messages.</summary>
public sealed record FuzzRequest(string Method, string Path, byte[]? Body, string Description)
{
    public override string ToString() => $"{Method} {(Path.Length > 300 ? Path[..300] + "..." : Path)} ({Description}) body: "
        + (Body is null ? "(none)" : Body.Length > 6000 ? Encoding.UTF8.GetString(Body, 0, 6000) + "..." : Encoding.UTF8.GetString(Body));
}

/// <summary>
/// Request generators driven by an OpenAPI document: bodies and parameters follow each route's schemas, then one
/// mutation in most samples (nulls inside arrays and objects, wrong types, huge and negative numbers, very long strings,
/// deep nesting, unknown fields, invalid UTF-8, empty and non-JSON bodies).
/// </summary>
public sealed class OpenApiFuzz(JsonElement document, IReadOnlyList<string> names)
{
    private const int MaxDepth = 6;

    // Generated bodies lean valid so that mutations reach the deeper rules; the mutations supply the invalid values.
    private static readonly string[] ResourceKeys = ["cpu", "memory", "nvidia.com/gpu", "cpu", "memory", "mas.io/disk-io", "ephemeral-storage"];
    private static readonly string[] Quantities = ["1", "500m", "2Gi", "8", "250m", "64Mi", "2"];
    private static readonly string[] Words = ["kube", "fgd", "best-fit", "In", "NotIn", "Exists", "Gt", "NoSchedule", "PreferNoSchedule", "DoNotSchedule",
        "ScheduleAnyway", "Equal", "zone", "kubernetes.io/hostname", "app", "web", "nginx:1.27", "ddqn", "a", ""];
    // Not "%00": Kestrel refuses a NUL in the path itself (400 before the app runs), which no route can answer with a problem.
    private static readonly string[] WeirdSegments = ["", " ", "a%2Fb", "..", "%C3%A4", "UPPER", "-", "a.b", new string('n', 3000), "%FF%FE"];

    public static IReadOnlyList<FuzzOperation> Operations(JsonElement document)
    {
        var operations = new List<FuzzOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var op in path.Value.EnumerateObject())
            {
                var parameters = op.Value.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
                JsonElement? body = op.Value.TryGetProperty("requestBody", out var b) && b.GetProperty("content").TryGetProperty("application/json", out var json)
                    ? json.GetProperty("schema") : null;
                operations.Add(new FuzzOperation(op.Name.ToUpperInvariant(), path.Name,
                    parameters.Where(x => x.GetProperty("in").GetString() == "path").Select(x => x.GetProperty("name").GetString()!).ToList(),
                    parameters.Where(x => x.GetProperty("in").GetString() == "query").Select(x => (x.GetProperty("name").GetString()!, x.GetProperty("schema"))).ToList(),
                    body));
            }
        }
        return operations;
    }

    /// <summary>Requests for the given operations plus raw-JSON routes (the extender's, absent from Swagger) with their sample bodies.</summary>
    public Gen<FuzzRequest> Requests(IReadOnlyList<FuzzOperation> operations, IReadOnlyList<(string Path, string SampleBody)> rawJsonRoutes)
    {
        // Routes with a body have the most to validate: seven samples in ten go to them.
        var withBody = operations.Where(o => o.Body is not null).ToList();
        var fromSchema = Gen.Int[0, 9].SelectMany(i => i < 7 && withBody.Count > 0 ? Pick(withBody) : Pick(operations)).SelectMany(op =>
            from path in PathOf(op)
            from query in QueryOf(op)
            from body in op.Body is { } schema ? Value(schema, "", 0).Select(v => (JsonNode?)v) : Const<JsonNode?>(null)
            from mutation in Gen.Int[0, 16]
            from seed in Gen.Int
            select Finish(op.Method, path + query, body, op.Body is not null, mutation, seed));
        var raw = Pick(rawJsonRoutes).SelectMany(route =>
            from mutation in Gen.Int[0, 16]
            from seed in Gen.Int
            select Finish("POST", route.Path, JsonNode.Parse(route.SampleBody), true, mutation, seed));
        return Gen.Int[0, 9].SelectMany(i => i < 8 || rawJsonRoutes.Count == 0 ? fromSchema : raw);
    }

    private Gen<string> PathOf(FuzzOperation op)
    {
        Gen<string> path = Const(op.Template);
        foreach (var parameter in op.PathParameters)
        {
            var value = Gen.Int[0, 9].SelectMany(i => i < 7 ? Pick(names).Select(Uri.EscapeDataString) : Pick(WeirdSegments));
            path = from p in path from v in value select p.Replace("{" + parameter + "}", v);
        }
        return path;
    }

    private Gen<string> QueryOf(FuzzOperation op)
    {
        Gen<string> query = Const("");
        foreach (var (name, schema) in op.Query)
        {
            var type = Resolve(schema).TryGetProperty("type", out var t) ? t.GetString() : null;
            var value = Gen.Int[0, 9].SelectMany(i => i switch
            {
                < 4 => Const<string?>(null),
                < 7 when type == "integer" => Gen.Int[-3, 1500].Select(n => (string?)n.ToString()),
                < 7 when type == "boolean" => Gen.Bool.Select(b => (string?)(b ? "true" : "false")),
                < 7 => Pick(names).Select(n => (string?)n),
                _ => Pick<string?>(["-1", "99999999999999999999", "abc", "1.5", "", "true", new string('9', 500)]),
            });
            query = from q in query from v in value select v is null ? q : $"{q}{(q.Length == 0 ? "?" : "&")}{name}={Uri.EscapeDataString(v)}";
        }
        return query;
    }

    /// <summary>A value following the schema, with plausible words for strings and resource names for map keys.</summary>
    private Gen<JsonNode?> Value(JsonElement schema, string hint, int depth)
    {
        schema = Resolve(schema);
        var nullable = schema.TryGetProperty("nullable", out var n) && n.GetBoolean();
        var value = NonNullValue(schema, hint, depth);
        return nullable ? Gen.Int[0, 9].SelectMany(i => i == 0 ? Const<JsonNode?>(null) : value) : value;
    }

    private Gen<JsonNode?> NonNullValue(JsonElement schema, string hint, int depth)
    {
        if (schema.TryGetProperty("enum", out var e))
        {
            var raw = e.EnumerateArray().Select(x => x.GetRawText()).ToList();
            return Pick(raw).Select(r => (JsonNode?)JsonNode.Parse(r));
        }
        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : schema.TryGetProperty("properties", out _) ? "object" : null;
        switch (type)
        {
            case "object" when depth >= MaxDepth:
                return Const<JsonNode?>(null);
            case "object":
                return ObjectValue(schema, depth);
            case "array" when depth >= MaxDepth:
                return Gen.Int[0, 0].Select(_ => (JsonNode?)new JsonArray());
            case "array":
                var items = schema.TryGetProperty("items", out var i) ? Value(i, hint, depth + 1) : Scalar(hint);
                return items.Array[0, 3].Select(a => (JsonNode?)new JsonArray(a));
            case "integer":
                return Gen.Int[1, 40].Select(x => (JsonNode?)JsonValue.Create(x));
            case "number":
                return Gen.Int[-5, 200].Select(x => (JsonNode?)JsonValue.Create(x / 10.0));
            case "boolean":
                return Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b));
            default:
                return Scalar(hint);
        }
    }

    private Gen<JsonNode?> ObjectValue(JsonElement schema, int depth)
    {
        var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet() : [];
        Gen<List<(string, JsonNode?)>> members = Gen.Int[0, 0].Select(_ => new List<(string, JsonNode?)>());
        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                var name = property.Name;
                var value = Value(property.Value, name, depth + 1);
                var include = required.Contains(name) ? Const(true) : Gen.Int[0, 9].Select(x => x < 7);
                members = from list in members from keep in include from v in value select keep ? new List<(string, JsonNode?)>(list) { (name, v) } : list;
            }
        }
        if (schema.TryGetProperty("additionalProperties", out var extra) && extra.ValueKind == JsonValueKind.Object)
        {
            var entry = from key in Pick(ResourceKeys) from v in Value(extra, "quantity", depth + 1) select (key, v);
            members = from list in members from entries in entry.Array[0, 3] select list.Concat(entries).DistinctBy(m => m.Item1).ToList();
        }
        return members.Select(list =>
        {
            var obj = new JsonObject();
            foreach (var (key, v) in list) obj[key] = v;
            return (JsonNode?)obj;
        });
    }

    private Gen<JsonNode?> Scalar(string hint) => (hint switch
    {
        "name" or "node" or "nodeName" or "pod" or "workload" => Pick(names),
        "quantity" => Pick(Quantities),
        // Plausible values for the Kubernetes fields, so generated bodies get past the early rules to the later ones.
        "policy" => Pick(["kube", "fgd", "best-fit"]),
        "operator" => Pick(["In", "Exists", "Equal"]),
        "effect" => Pick(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
        "whenUnsatisfiable" => Pick(["DoNotSchedule", "ScheduleAnyway"]),
        "topologyKey" or "key" => Pick(["zone", "kubernetes.io/hostname", "app"]),
        "image" => Pick(["nginx:1.27", "busybox"]),
        _ => Gen.Int[0, 3].SelectMany(i => i == 0 ? Gen.Int[0, 99999].Select(x => $"fz-{x}") : Pick(Words)),
    }).Select(s => (JsonNode?)JsonValue.Create(s));

    private JsonElement Resolve(JsonElement schema)
    {
        for (var guard = 0; guard < 10; guard++)
        {
            if (schema.TryGetProperty("$ref", out var reference))
            {
                var name = reference.GetString()!.Split('/')[^1];
                schema = document.GetProperty("components").GetProperty("schemas").GetProperty(name);
            }
            else if (schema.TryGetProperty("allOf", out var all) || schema.TryGetProperty("oneOf", out all) || schema.TryGetProperty("anyOf", out all))
                schema = all[0];
            else break;
        }
        return schema;
    }

    /// <summary>Applies mutation <paramref name="kind"/> (0..4: none; 14 and up also give bodiless routes a body) and encodes the body.</summary>
    private static FuzzRequest Finish(string method, string path, JsonNode? body, bool takesBody, int kind, int seed)
    {
        var random = new Random(seed);
        if (!takesBody && kind < 14) return new FuzzRequest(method, path, null, "no body");
        body ??= new JsonObject();
        string description;
        byte[]? bytes = null;
        var nodes = Walk(body).ToList();
        var target = nodes[random.Next(nodes.Count)];
        switch (kind)
        {
            case <= 4:
                description = "as generated";
                break;
            case 5:
                description = "null inside an array or object";
                var arrays = nodes.OfType<JsonArray>().ToList();
                if (arrays.Count > 0 && random.Next(10) < 7) arrays[random.Next(arrays.Count)].Add(null);
                else if (nodes.OfType<JsonObject>().Where(o => o.Count > 0).ToList() is { Count: > 0 } objects)
                {
                    var o = objects[random.Next(objects.Count)];
                    o[o.ElementAt(random.Next(o.Count)).Key] = null;
                }
                break;
            case 16:
                description = "null inside every array";
                foreach (var a in nodes.OfType<JsonArray>()) a.Add(null);
                break;
            case 6:
                description = "wrong type";
                Replace(body, target, random.Next(4) switch { 0 => JsonValue.Create("not-a-number"), 1 => JsonValue.Create(42), 2 => new JsonArray(1, 2), _ => new JsonObject { ["x"] = true } }, ref body);
                break;
            case 7:
                description = "huge or negative number";
                Replace(body, target, random.Next(5) switch
                {
                    0 => JsonValue.Create(-1), 1 => JsonValue.Create(long.MaxValue), 2 => JsonValue.Create(-1e300),
                    3 => JsonValue.Create(int.MinValue), _ => JsonValue.Create(1e308),
                }, ref body);
                break;
            case 8:
                description = "very long string";
                Replace(body, target, JsonValue.Create(new string((char)('a' + random.Next(26)), 20_000 + random.Next(200_000))), ref body);
                break;
            case 9:
                description = "deep nesting";
                JsonNode deep = new JsonArray();
                for (var d = 0; d < 300; d++) deep = random.Next(2) == 0 ? new JsonArray(deep) : new JsonObject { ["a"] = deep };
                Replace(body, target, deep, ref body);
                break;
            case 10:
                description = "unknown field";
                (nodes.OfType<JsonObject>().LastOrDefault() ?? new JsonObject()).TryAdd("zzUnknownField", JsonValue.Create(1));
                break;
            case 11:
                description = "invalid UTF-8";
                var text = Encoding.UTF8.GetBytes(body.ToJsonString());
                var quote = Array.IndexOf(text, (byte)'"');
                bytes = quote < 0 ? [0xC3, 0x28] : [.. text[..(quote + 1)], 0xC3, 0x28, 0xFF, .. text[(quote + 1)..]];
                break;
            case 12:
                description = "empty body";
                bytes = [];
                break;
            case 13:
                description = "not JSON";
                bytes = Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "{not json" : "[1,2");
                break;
            case 14:
                description = "JSON of the wrong shape";
                bytes = Encoding.UTF8.GetBytes(random.Next(3) switch { 0 => "[]", 1 => "null", _ => "\"text\"" });
                break;
            default:
                description = "deeply nested arrays only";
                bytes = Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000));
                break;
        }
        if (bytes is null) NoRunTimes(body);
        return new FuzzRequest(method, path, bytes ?? Encoding.UTF8.GetBytes(body.ToJsonString()), description);
    }

    /// <summary>
    /// A valid run time would make an accepted pod finish mid-run on its own and confuse the before/after comparison;
    /// any non-negative number becomes "longer than the run" (negative ones and other types stay, to be rejected).
    /// </summary>
    private static void NoRunTimes(JsonNode body)
    {
        foreach (var o in Walk(body).OfType<JsonObject>().ToList())
        {
            if (o["expectedDurationSeconds"] is JsonValue v && v.TryGetValue<double>(out var seconds) && seconds >= 0)
                o["expectedDurationSeconds"] = 1e9;
        }
    }

    private static void Replace(JsonNode root, JsonNode? target, JsonNode replacement, ref JsonNode body)
    {
        if (target is null || ReferenceEquals(target, root) || target.Parent is null) { body = replacement; return; }
        switch (target.Parent)
        {
            case JsonObject o: o[target.GetPropertyName()] = replacement; break;
            case JsonArray a: a[target.GetElementIndex()] = replacement; break;
        }
    }

    private static IEnumerable<JsonNode?> Walk(JsonNode? node)
    {
        yield return node;
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, v) in o.ToList()) foreach (var x in Walk(v)) yield return x;
                break;
            case JsonArray a:
                foreach (var v in a.ToList()) foreach (var x in Walk(v)) yield return x;
                break;
        }
    }

    private static Gen<T> Const<T>(T value) => Gen.Int[0, 0].Select(_ => value);

    private static Gen<T> Pick<T>(IReadOnlyList<T> items) => Gen.Int[0, items.Count - 1].Select(i => items[i]);
}
