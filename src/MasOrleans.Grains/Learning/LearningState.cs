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

/// <param name="Source">"base" (the model directory the silo ships) or "online" (trained from live decisions).</param>
[GenerateSerializer, Alias("mas.stored-model-version")]
public sealed record StoredModelVersion(
    [property: Id(0)] int Version,
    [property: Id(1)] int? ParentVersion,
    [property: Id(2)] DateTime CreatedUtc,
    [property: Id(3)] string Source,
    [property: Id(4)] int Transitions,
    [property: Id(5)] double? Loss,
    [property: Id(6)] string Digest,
    [property: Id(7)] IReadOnlyDictionary<string, byte[]> Files)
{
    public ModelVersionInfo Info => new(Version, ParentVersion, CreatedUtc, Source, Transitions, Loss, Digest);
}
