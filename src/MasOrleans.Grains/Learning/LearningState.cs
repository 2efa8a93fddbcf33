using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Learning;

/// <summary>What a learning grain persists: every kept model version with its files, and which one is active.</summary>
[GenerateSerializer, Alias("mas.learning-state")]
public sealed record LearningState(
    [property: Id(0)] int ActiveVersion,
    [property: Id(1)] int LatestVersion,
    [property: Id(2)] bool? OnlineEnabled,
    [property: Id(3)] string? BaseDigest,
    [property: Id(4)] IReadOnlyList<StoredModelVersion> Versions)
{
    public LearningState() : this(0, 0, null, null, []) { }

    public StoredModelVersion? Find(int version) => Versions.FirstOrDefault(v => v.Version == version);
}

/// <summary>A kept model version: what the API shows of it, and its files (metadata.json and weights).</summary>
[GenerateSerializer, Alias("mas.stored-model-version")]
public sealed record StoredModelVersion(
    [property: Id(0)] ModelVersionInfo Info,
    [property: Id(1)] IReadOnlyDictionary<string, byte[]> Files)
{
    // Shorthands, not stored.
    [System.Text.Json.Serialization.JsonIgnore] public int Version => Info.Version;
    [System.Text.Json.Serialization.JsonIgnore] public int? ParentVersion => Info.ParentVersion;
    [System.Text.Json.Serialization.JsonIgnore] public string Digest => Info.Digest;
}
