using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>Kubernetes JSON in and out: the client library's serializer for core/v1 and apps/v1 objects, unknown-field checks.</summary>
internal static class KubeJson
{
    public static IResult Object(object value, int status = 200) => Results.Text(KubernetesJson.Serialize(value), "application/json", Encoding.UTF8, status);

    public static IResult Node(JsonNode value, int status = 200) => Results.Text(value.ToJsonString(), "application/json", Encoding.UTF8, status);

    public static JsonNode ToNode(object value) => JsonNode.Parse(KubernetesJson.Serialize(value))!;

    private const string Protobuf = "application/vnd.kubernetes.protobuf";

    /// <summary>
    /// kubectl create deployment and create namespace send protobuf (client-go's typed clients default to it), which
    /// this server does not read; the way that works is the same object as a manifest.
    /// </summary>
    private const string ProtobufRefused = "the body of the request was in an unknown format - accepted media types include: application/json (not "
        + Protobuf + "): this server reads JSON only, and kubectl create <kind> with flags sends protobuf; send the object as JSON instead: "
        + "kubectl create <kind> ... --dry-run=client -o yaml | kubectl apply -f -";

    /// <summary>
    /// A request body as <typeparamref name="T"/>. Fields the type does not have are refused under
    /// ?fieldValidation=Strict (kubectl's default, as the OpenAPI document says this server supports it), reported
    /// in a Warning header under Warn (the default without the parameter), and dropped under Ignore, as the API server does.
    /// </summary>
    public static async Task<BodyResult<T>> Read<T>(HttpContext context) where T : class
    {
        var request = context.Request;
        var mediaType = (request.ContentType ?? "application/json").Split(';')[0].Trim();
        if (mediaType == Protobuf) return new(null, null, KubeStatus.Failure(415, "UnsupportedMediaType", ProtobufRefused));
        if (mediaType != "application/json") return new(null, null, KubeStatus.UnsupportedMediaType(mediaType, "application/json"));
        var text = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
        return Parse<T>(context, text);
    }

    /// <param name="undecodable">The Status for text that does not decode as <typeparamref name="T"/>, given why; 400 unless said.</param>
    public static BodyResult<T> Parse<T>(HttpContext context, string text, Func<string, IResult>? undecodable = null) where T : class
    {
        JsonNode? raw;
        T? value;
        try
        {
            raw = JsonNode.Parse(text);
            // Before the serializer, which spends minutes on a quantity like "1e100000" (every POST and PATCH comes here).
            if (QuantityGuard.FindOversized(raw) is var (path, quantity))
                return new(null, null, KubeStatus.BadRequest($"the request body is not a valid {typeof(T).Name[2..]}: {path}: quantity '{quantity}' is out of range"));
            value = raw is JsonObject ? KubernetesJson.Deserialize<T>(text) : null;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            var why = Describe(e, text);
            return new(null, null, undecodable?.Invoke(why) ?? KubeStatus.BadRequest($"the request body is not a valid {typeof(T).Name[2..]}: {why}"));
        }
        if (value is null) return new(null, null, undecodable?.Invoke("not a JSON object") ?? KubeStatus.BadRequest("the request body must be a JSON object"));
        if (UnknownField(raw!, ToNode(value), "") is { } unknown)
        {
            var validation = context.Request.Query["fieldValidation"].ToString();
            if (validation == "Strict") return new(null, null, KubeStatus.BadRequest($"strict decoding error: unknown field \"{unknown}\""));
            if (validation != "Ignore") context.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{unknown}\\\"\"");
        }
        return new(value, raw, null);
    }

    /// <summary>
    /// A field of the wrong shape in the manifest's terms, "spec.containers: cannot be read as a list (it is a string)",
    /// where System.Text.Json names .NET types ("could not be converted to System.Collections.Generic.IList`1[...]").
    /// </summary>
    internal static string Describe(Exception e, string text)
    {
        // KubernetesClient's quantity parser names neither the field nor the syntax ("The string '2x' cannot be converted to fraction").
        if (e is FormatException && TryParse(text) is var (field, quantity))
            return $"{field}: quantities must match the regular expression '{QuantityGuard.QuantitySyntax}' (not '{quantity}')";
        if (e is not JsonException { Path: { Length: > 1 } path } || Regex.Match(e.Message, @"converted to (\S+?)\. Path") is not { Success: true } target) return e.Message;
        var wanted = target.Groups[1].Value switch
        {
            var t when t.Contains("List`1") || t.EndsWith("[]", StringComparison.Ordinal) => "a list",
            var t when t.Contains("Dictionary`2") => "a map",
            var t when t.Contains("System.String") => "a string",
            var t when t.Contains("System.Int") || t.Contains("System.Long") => "an integer",
            var t when t.Contains("System.Boolean") => "true or false",
            var t when t.Contains("System.Double") || t.Contains("System.Single") => "a number",
            var t when t.Contains("System.DateTime") => "a time (RFC 3339)",
            var t when t.Contains("IntOrString") || t.Contains("ResourceQuantity") => "a string or a number",
            _ => "an object",
        };
        JsonNode? value = null;
        try
        {
            value = JsonNode.Parse(text);
            foreach (Match step in Regex.Matches(path, @"\.([^.\[]+)|\['((?:[^']|'')*)'\]|\[(\d+)\]"))
                value = step.Groups[3].Success ? (value as JsonArray)?[int.Parse(step.Groups[3].Value, CultureInfo.InvariantCulture)]
                    : (value as JsonObject)?[step.Groups[1].Success ? step.Groups[1].Value : step.Groups[2].Value];
        }
        catch (Exception inner) when (inner is JsonException or ArgumentOutOfRangeException)
        {
            value = null;
        }
        var actual = value?.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            _ => "null",
        };
        return $"{path[2..]}: cannot be read as {wanted} (it is {actual})";
    }

    /// <summary>The first malformed quantity in the body, if it is JSON.</summary>
    private static (string Path, string Quantity)? TryParse(string text)
    {
        try
        {
            return QuantityGuard.FindMalformed(JsonNode.Parse(text));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The first field of <paramref name="input"/> that did not survive a round trip through the typed object.</summary>
    public static string? UnknownField(JsonNode input, JsonNode? roundTrip, string path)
    {
        switch (input)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    if (child is null) continue;
                    var childPath = path.Length == 0 ? name : $"{path}.{name}";
                    if (roundTrip is not JsonObject other || !other.TryGetPropertyValue(name, out var counterpart)) return childPath;
                    if (UnknownField(child, counterpart, childPath) is { } deeper) return deeper;
                }
                return null;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is not { } item) continue;
                    var other = roundTrip is JsonArray a && i < a.Count ? a[i] : null;
                    if (UnknownField(item, other, $"{path}[{i}]") is { } deeper) return deeper;
                }
                return null;
            default:
                return null;
        }
    }
}

internal sealed record BodyResult<T>(T? Value, JsonNode? Raw, IResult? Error) where T : class;
