using System.Security.Cryptography;

namespace MasOrleans.Learning.Online;

/// <summary>
/// A model directory held in memory (metadata.json and the weights files, not the plots), so a model version can be
/// stored in Redis and shipped between silos. Loading writes it to a scratch directory and uses the directory loader,
/// so a package and a directory can never be read differently.
/// </summary>
public sealed record ModelPackage(IReadOnlyDictionary<string, byte[]> Files)
{
    /// <summary>Hex SHA-256 over the files in name order: equal digests mean identical models.</summary>
    public string Digest
    {
        get
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var (name, bytes) in InNameOrder)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
                hash.AppendData(bytes);
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }

    /// <summary>Each file's hex SHA-256, in name order as <see cref="Digest"/> reads them: what a run's provenance names.</summary>
    public IReadOnlyList<(string Name, string Sha256)> FileDigests =>
        [.. InNameOrder.Select(f => (f.Key, Convert.ToHexStringLower(SHA256.HashData(f.Value))))];

    private IEnumerable<KeyValuePair<string, byte[]>> InNameOrder => Files.OrderBy(f => f.Key, StringComparer.Ordinal);

    public ModelMetadata Metadata => Files.TryGetValue(ModelMetadata.FileName, out var json)
        ? ModelDirectory.ParseMetadata(System.Text.Encoding.UTF8.GetString(json), $"model package {ModelMetadata.FileName}")
        : throw new InvalidDataException($"the model package has no {ModelMetadata.FileName}");

    public static ModelPackage FromDirectory(string directory)
    {
        ModelDirectory.CheckIsDirectory(directory);
        var files = FilesOf(directory).ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes, StringComparer.Ordinal);
        if (!files.ContainsKey(ModelMetadata.FileName))
            throw new FileNotFoundException($"No {ModelMetadata.FileName} in model directory '{directory}'.");
        return new ModelPackage(files);
    }

    /// <summary>The files a model directory's model is made of (metadata.json and the weights, not the plots), in name order, as paths under <paramref name="directory"/>.</summary>
    private static IReadOnlyList<string> FilesOf(string directory) =>
        [.. Directory.EnumerateFiles(directory)
            .Where(path => Path.GetFileName(path) is var name && (name == ModelMetadata.FileName || name.EndsWith(ModelDirectory.WeightsExtension, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)];

    public static ModelPackage FromAgent(IPlacementAgent agent, ModelProvenance? provenance = null)
    {
        var scratch = Directory.CreateTempSubdirectory("mas-model-");
        try
        {
            agent.Save(scratch.FullName, provenance);
            return FromDirectory(scratch.FullName);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>The same weights with other metadata.</summary>
    public ModelPackage WithMetadata(ModelMetadata metadata) => new(new Dictionary<string, byte[]>(Files, StringComparer.Ordinal)
    {
        [ModelMetadata.FileName] = System.Text.Encoding.UTF8.GetBytes(ModelDirectory.SerializeMetadata(metadata)),
    });

    /// <summary>
    /// Writes the model's files, and <paramref name="alongside"/> (a training curve), into the directory as one save
    /// (<see cref="AtomicFiles.Replace"/>: everything else, then metadata.json): a failure leaves a model already there
    /// as it was.
    /// </summary>
    public void WriteTo(string directory, IReadOnlyDictionary<string, byte[]>? alongside = null)
    {
        var files = alongside is null ? Files : Files.Concat(alongside).ToDictionary(StringComparer.Ordinal);
        CheckFileNames(files.Keys);
        AtomicFiles.Replace(directory, files
            .OrderBy(f => f.Key == ModelMetadata.FileName)
            .ThenBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => (f.Key, (Action<string>)(path => File.WriteAllBytes(path, f.Value))))
            .ToList());
    }

    /// <summary>Loads the node-scorer agent this package holds (checks algorithm and feature layout like a directory load).</summary>
    /// <param name="source">The directory the package was read from: errors name it, not the scratch copy the agent reads.</param>
    public IPlacementAgent LoadAgent(string? expectedAlgorithm = null, string? source = null) =>
        WithScratchDirectory(dir =>
        {
            try
            {
                return Placement.LearnedDecisions.Load(dir, expectedAlgorithm);
            }
            catch (Exception e) when (source is not null && e is IOException or InvalidDataException or ModelLayoutMismatchException)
            {
                var message = e.Message.Replace(dir, source, StringComparison.Ordinal);
                throw e switch
                {
                    FileNotFoundException missing => new FileNotFoundException(message, missing.FileName?.Replace(dir, source, StringComparison.Ordinal), e),
                    ModelLayoutMismatchException layout => new ModelLayoutMismatchException(source, layout.SavedLayout, layout.ExpectedLayout),
                    _ => new InvalidDataException(message, e),
                };
            }
        });

    internal T WithScratchDirectory<T>(Func<string, T> read)
    {
        var scratch = Directory.CreateTempSubdirectory("mas-model-");
        try
        {
            // A fresh private directory no one else reads, removed below: written plainly, not through AtomicFiles.
            CheckFileNames(Files.Keys);
            foreach (var (name, bytes) in Files) File.WriteAllBytes(Path.Combine(scratch.FullName, name), bytes);
            return read(scratch.FullName);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Names come from storage: none may leave the directory it is written to.</summary>
    private static void CheckFileNames(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            if (!AtomicFiles.IsPlainFileName(name))
                throw new InvalidDataException($"model file name '{name}' is not a plain file name");
        }
    }
}
