using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MasOrleans.Kubernetes;

/// <summary>
/// Finds resource quantities no node or pod can have (exponents beyond 10^30, or longer than 64 characters) in a
/// Kubernetes JSON document, before KubernetesClient's serializer spends minutes turning them into exact fractions
/// ("1e100000", -1E+300). Every body that reaches the serializer from outside (the extender's, the /k8s surface's)
/// passes here first. Quantities are found by the JSON names core/v1 and apps/v1 give them.
/// </summary>
public static partial class QuantityGuard
{
    private const int MaxExponent = 30;
    private const int MaxLength = 64;

    /// <summary>Fields that are maps of resource name to quantity (node allocatable, container requests, ...).</summary>
    public static readonly IReadOnlySet<string> QuantityMaps = new HashSet<string>(StringComparer.Ordinal)
    {
        "allocatable", "capacity", "requests", "limits", "overhead", "allocatedResources",
    };

    /// <summary>Fields that are one quantity (an emptyDir's sizeLimit, a resourceFieldRef's divisor, a node's allocatable mapping and overhead).</summary>
    public static readonly IReadOnlySet<string> QuantityFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "sizeLimit", "divisor", "quantity", "perPod", "perContainer",
    };

    /// <summary>
    /// The first oversized quantity as its path ("spec.containers[0].resources.requests.memory") and text, each as it may
    /// be quoted (<see cref="EchoedText"/>); null when there is none.
    /// </summary>
    public static (string Path, string Quantity)? FindOversized(JsonNode? node) => Quoted(Find(node, "", Oversized));

    /// <summary>Kubernetes' quantity syntax (apimachinery pkg/api/resource/quantity.go, splitREString), as its ErrFormatWrong quotes it.</summary>
    public const string QuantitySyntax = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

    /// <summary>The first quantity that is not in Kubernetes' syntax ("2x"), as its path and text as they may be quoted; null when there is none.</summary>
    public static (string Path, string Quantity)? FindMalformed(JsonNode? node) =>
        Quoted(Find(node, "", q => q is JsonValue v && v.ToJsonString().Trim('"') is var text && !Syntax().IsMatch(text) ? text : null));

    private static (string Path, string Quantity)? Quoted((string Path, string Quantity)? found) =>
        found is var (path, quantity) ? (EchoedText.Bounded(path), EchoedText.Bounded(quantity)) : null;

    private static (string Path, string Quantity)? Find(JsonNode? node, string path, Func<JsonNode?, string?> wrong)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    var childPath = path.Length == 0 ? name : $"{path}.{name}";
                    if (QuantityFields.Contains(name) && wrong(child) is { } one) return (childPath, one);
                    if (QuantityMaps.Contains(name) && child is JsonObject map)
                    {
                        foreach (var (resource, quantity) in map)
                        {
                            if (wrong(quantity) is { } text) return ($"{childPath}.{resource}", text);
                        }
                    }
                    if (Find(child, childPath, wrong) is { } deeper) return deeper;
                }
                return null;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (Find(array[i], $"{path}[{i}]", wrong) is { } deeper) return deeper;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>The quantity's text when it is oversized (a JSON string or number alike: the serializer reads both).</summary>
    private static string? Oversized(JsonNode? quantity)
    {
        if (quantity is not JsonValue value) return null;
        var text = value.ToJsonString().Trim('"');
        if (text.Length > MaxLength) return text;
        var match = Exponent().Match(text);
        return match.Success && (!int.TryParse(match.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e) || Math.Abs(e) > MaxExponent)
            ? text
            : null;
    }

    [GeneratedRegex(QuantitySyntax)]
    private static partial Regex Syntax();

    [GeneratedRegex(@"[eE]([+-]?[0-9]+)\z")]
    private static partial Regex Exponent();
}
