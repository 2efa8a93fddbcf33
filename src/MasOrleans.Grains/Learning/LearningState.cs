using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Learning;

/// <summary>What a learning grain persists: every kept model version with its files, and which one is active.</summary>
/// <param name="BaseDigest">The base model adopted last.</param>
/// <param name="AdoptedBaseDigests">Every base model ever adopted, pruned or not (null in state written before it was kept).</param>
[GenerateSerializer, Alias("mas.learning-state")]
public sealed record LearningState(
    [property: Id(0)] int ActiveVersion,
    [property: Id(1)] int LatestVersion,
    [property: Id(2)] bool? OnlineEnabled,
    [property: Id(3)] string? BaseDigest,
    [property: Id(4)] IReadOnlyList<StoredModelVersion> Versions,
    [property: Id(5)] IReadOnlyList<string>? AdoptedBaseDigests = null)
{
    public LearningState() : this(0, 0, null, null, []) { }

    public StoredModelVersion? Find(int version) => Versions.FirstOrDefault(v => v.Version == version);

    /// <summary>Whether a base model with this digest was adopted before (state from before the list: the last one and the kept ones).</summary>
    public bool Adopted(string digest) =>
        BaseDigest == digest || (AdoptedBaseDigests ?? []).Contains(digest)
        || Versions.Any(v => v.Info.Source == LearningGrain.SourceBase && v.Digest == digest);
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
