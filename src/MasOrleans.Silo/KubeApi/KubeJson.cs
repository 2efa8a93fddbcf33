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
    private const string ProtobufAdvice = "this server reads JSON only, and kubectl create <kind> with flags sends protobuf; send the object as JSON instead: "
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
        if (mediaType == Protobuf) return new(null, null, KubeStatus.UnsupportedMediaType(Protobuf, ["application/json"], ProtobufAdvice));
        if (mediaType != "application/json") return new(null, null, KubeStatus.UnsupportedMediaType(mediaType, "application/json"));
        var text = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
        return Parse<T>(context, text);
    }

    /// <param name="undecodable">The Status for text that does not decode as <typeparamref name="T"/>, given why; 400 unless said.</param>
    public static BodyResult<T> Parse<T>(HttpContext context, string text, Func<string, IResult>? undecodable = null) where T : class
    {
        var (value, raw, why, oversized) = Decode<T>(text);
        if (value is null)
        {
            // An oversized quantity is refused before decoding, a 400 whatever the caller (a patch's too).
            return new(null, null, (oversized ? null : undecodable?.Invoke(why!)) ?? KubeStatus.BadRequest(why == NotAnObject
                ? "the request body must be a JSON object"
                : $"the request body is not a valid {typeof(T).Name[2..]}: {why}"));
        }
        if (UnknownField(raw!, ToNode(value), "") is { } unknown)
        {
            var validation = context.Request.Query["fieldValidation"].ToString();
            if (validation == "Strict") return new(null, null, KubeStatus.BadRequest($"strict decoding error: unknown field \"{unknown}\""));
            if (validation != "Ignore") context.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{unknown}\\\"\"");
        }
        return new(value, raw, null);
    }

    /// <summary>Why <see cref="Decode{T}"/> refused a body that is JSON but no object (<c>[]</c>, <c>"x"</c>, <c>1</c>, <c>null</c>).</summary>
    public const string NotAnObject = "not a JSON object";

    /// <summary>
    /// A request body as <typeparamref name="T"/> with the JSON it was read from, or why it is not one in the sender's terms
    /// (<see cref="Describe"/>), every quote from the body bounded (<see cref="EchoedText"/>). The one reader of bodies from
    /// outside, /k8s's and the extender's: the same body is refused the same way on both, never a 500. Oversized: refused
    /// for a quantity no object can have (<see cref="QuantityGuard"/>), before it was decoded.
    /// </summary>
    public static (T? Value, JsonNode? Raw, string? Why, bool Oversized) Decode<T>(string text) where T : class
    {
        try
        {
            var raw = JsonNode.Parse(text);
            // Before the serializer, which spends minutes on a quantity like "1e100000" or -1E+300 (it parses quantities as
            // exact fractions).
            if (QuantityGuard.FindOversized(raw) is var (path, quantity)) return (null, raw, $"{path}: quantity '{quantity}' is out of range", true);
            // The serializer's word for another root names the .NET type ("could not be converted to ...ExtenderArgs").
            return raw is JsonObject && KubernetesJson.Deserialize<T>(text) is { } value ? (value, raw, null, false) : (null, raw, NotAnObject, false);
        }
        // ArgumentException: a key twice in one object; OverflowException: a number beyond its field's type;
        // NotSupportedException: an IntOrString that is an object or true/false (KubernetesClient's converter throws it).
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            return (null, null, Describe(e, text), false);
        }
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
        // NotSupportedException names the type it was reading and the path in its message only.
        var path = e is JsonException json ? json.Path : e is NotSupportedException ? Regex.Match(e.Message, @"Path: (.*) \| LineNumber: \d+ \| BytePositionInLine: \d+\.$").Groups[1].Value : null;
        if (path is not { Length: > 1 } || Regex.Match(e.Message, @"(?:converted to |located on type ')(\S+?)'?\. Path") is not { Success: true } target) return EchoedText.Bounded(e.Message);
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
        return $"{EchoedText.Bounded(path[2..])}: cannot be read as {wanted} (it is {actual})";
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
