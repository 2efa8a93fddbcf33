using System.Text.Json;
using System.Text.Json.Serialization;

namespace MasOrleans.Cli.Train;

/// <summary>
/// A double as a JSON number, and one that is not a number (NaN, infinite) as null, read back as NaN: JSON has no
/// literal for them, and a "NaN" string put text where a number belongs, which a strict reader refuses.
/// </summary>
internal sealed class NaNAsNullConverter : JsonConverter<double>
{
    public override bool HandleNull => true;

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
