using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Serialization;

namespace MasOrleans.Abstractions;

/// <summary>One JSON configuration for everything the service stores, sends between grains or serves.</summary>
public static class MasJson
{
    public const string CoreNamespace = "MasOrleans.Scheduling";

    /// <summary>Web naming (camelCase) and enums as strings, so stored state reads like the API and survives enum reordering.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        AddEnumConverters(options.Converters);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>
    /// Enums as camelCase strings, except pod phases, which are spelled as Kubernetes spells them ("Running").
    /// Reading ignores case, so state stored as "running" still loads.
    /// </summary>
    public static void AddEnumConverters(IList<JsonConverter> converters)
    {
        converters.Add(new JsonStringEnumConverter<Contracts.PodPhase>());
        converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    /// <summary>
    /// The scheduling core has no Orleans attributes; its plain records (PodSpec, NodeSpec, GpuAllocation...)
    /// cross grain calls as System.Text.Json, so grains reuse them instead of mirroring them.
    /// </summary>
    public static ISerializerBuilder AddMasOrleansSerializers(this ISerializerBuilder builder) =>
        builder.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith(CoreNamespace, StringComparison.Ordinal) == true,
            jsonSerializerOptions: Options);
}
