using System.Text.Json;
using System.Text.Json.Serialization;

namespace MasOrleans.Scheduling.Resources;

/// <summary>Writes a vector as a Kubernetes quantity map ({"cpu": "500m"}) so stored and served JSON read like Kubernetes.</summary>
public sealed class ResourceVectorJsonConverter : JsonConverter<ResourceVector>
{
    public override ResourceVector Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var map = JsonSerializer.Deserialize<Dictionary<string, string>>(ref reader, options);
        return ResourceVector.TryParse(map, out var v, out var error) ? v : throw new JsonException(error);
    }

    public override void Write(Utf8JsonWriter writer, ResourceVector value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        // As ResourceVector.Quantities() lists them, but with no iterator or string: every stored pod writes its vectors,
        // and those showed in the live path's allocation profile.
        Span<char> quantity = stackalloc char[Quantity.MaxFormattedLength];
        foreach (var (kind, stored) in value.Amounts()) writer.WriteString(ResourceNames.NameOf(kind), quantity[..Quantity.Format(kind, stored, quantity)]);
        writer.WriteEndObject();
    }
}
