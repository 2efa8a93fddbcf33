using MasOrleans.Learning.Online;

namespace MasOrleans.Learning.Placement;

/// <summary>One file of a loaded model and the SHA-256 of the bytes that were loaded.</summary>
public sealed record LoadedModelFile(string Name, string Sha256);

/// <summary>
/// A model read from a directory for the learned policies: its full path, the slot the policies decide with, and its
/// files hashed from the package bytes the slot holds, so a run's provenance names what was loaded, not what the
/// directory held when the run ended.
/// </summary>
public sealed record LoadedModel(string Directory, LiveModelSlot Slot, IReadOnlyList<LoadedModelFile> Files)
{
    public static LoadedModel Of(string directory, LiveModelSlot slot, ModelPackage package) => new(directory, slot,
        [.. package.FileDigests.Select(f => new LoadedModelFile(f.Name, f.Sha256))]);
}
