using System.Text.Json;
using MasOrleans.Abstractions;
using Orleans.Storage;

namespace MasOrleans.Grains.Storage;

/// <summary>
/// Stores grain state as plain System.Text.Json with no .NET type names, so renaming a class or moving a
/// namespace never orphans stored data, and the data in Redis reads like the REST API (see docs/architecture.md).
/// </summary>
public sealed class SystemTextJsonGrainStorageSerializer : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, MasJson.Options));

    public T Deserialize<T>(BinaryData input) =>
        JsonSerializer.Deserialize<T>(input.ToMemory().Span, MasJson.Options)
        ?? throw new JsonException($"stored {typeof(T).Name} was null");
}
