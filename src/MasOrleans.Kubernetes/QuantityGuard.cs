using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MasOrleans.Silo.Extender;

/// <summary>
/// Finds resource quantities no node or pod can have (exponents beyond 10^30, or longer than 64 characters) in the
/// resource maps of a kube-scheduler payload, before the Kubernetes client spends minutes turning them into fractions.
/// </summary>
internal static partial class QuantityGuard
{
    private const int MaxExponent = 30;
    private const int MaxLength = 64;
    private static readonly HashSet<string> ResourceMaps = ["allocatable", "capacity", "requests", "limits", "overhead"];

    public static bool HasOversized(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(p => (ResourceMaps.Contains(p.Key) && p.Value is JsonObject map && map.Any(q => Oversized(q.Value))) || HasOversized(p.Value)),
        JsonArray a => a.Any(HasOversized),
        _ => false,
    };

    private static bool Oversized(JsonNode? quantity)
    {
        if (quantity is not JsonValue value) return false;
        var text = value.ToJsonString().Trim('"');
        if (text.Length > MaxLength) return true;
        var match = Exponent().Match(text);
        return match.Success && (!int.TryParse(match.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e) || Math.Abs(e) > MaxExponent);
    }

    [GeneratedRegex("[eE]([+-]?[0-9]+)$")]
    private static partial Regex Exponent();
}
