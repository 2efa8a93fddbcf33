using System.Text.Json;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.Storage;

namespace MasOrleans.Grains.Storage;

/// <summary>
/// The stream pub-sub store's serializer. Its state is Orleans' own (<c>PubSubGrainState</c>), whose producer and
/// consumer records System.Text.Json can neither write nor read back, so it is stored with Orleans' serializer.
/// Builds before session 39 wrote it as JSON anyway: <c>{"producers":[{}],"consumers":[]}</c>, empty of information.
/// Such an entry reads as no state, once logged, and the rendezvous grain's next write replaces it; any other
/// unreadable entry still throws.
/// </summary>
public sealed partial class PubSubStateSerializer(Serializer serializer, ILogger<PubSubStateSerializer> logger) : IGrainStorageSerializer
{
    private readonly OrleansGrainStorageSerializer _orleans = new(serializer);

    public BinaryData Serialize<T>(T? input) => _orleans.Serialize(input);

    public T Deserialize<T>(BinaryData input)
    {
        if (IsEmptyJsonFromOlderBuild(input.ToMemory()))
        {
            LogOlderJsonState(typeof(T).Name);
            return Activator.CreateInstance<T>();
        }
        return _orleans.Deserialize<T>(input) ?? throw new InvalidDataException($"stored {typeof(T).Name} was null");
    }

    /// <summary>The pub-sub state's properties as the JSON serializer named them.</summary>
    private static readonly HashSet<string> OlderJsonProperties = new(["producers", "consumers"], StringComparer.Ordinal);

    /// <summary>
    /// The whole entry one JSON object whose every property is producers or consumers, an array of empty objects: all
    /// the JSON serializer could write of the pub-sub state. Orleans' binary format never parses as JSON, so nothing it
    /// wrote is taken for this.
    /// </summary>
    internal static bool IsEmptyJsonFromOlderBuild(ReadOnlyMemory<byte> data)
    {
        if (data.IsEmpty || data.Span[0] != (byte)'{')
            return false;
        try
        {
            // Parse, not ParseValue: bytes after the object are an error, not ignored.
            using var document = JsonDocument.Parse(data);
            return document.RootElement.EnumerateObject().All(p =>
                OlderJsonProperties.Contains(p.Name)
                && p.Value.ValueKind == JsonValueKind.Array
                && p.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Object && !e.EnumerateObject().Any()));
        }
        catch (JsonException)
        {
            // Not JSON after all: Orleans' serializer reads it, or says loudly why it cannot.
            return false;
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "A stored {StateType} is the JSON an older build wrote, which holds nothing (its producers and consumers could not be written); it reads as no state and the next write replaces it")]
    private partial void LogOlderJsonState(string stateType);
}
