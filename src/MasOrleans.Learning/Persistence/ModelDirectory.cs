using System.Text.Json;
using static TorchSharp.torch;

namespace MasOrleans.Learning;

/// <summary>
/// A model on disk: metadata.json plus one TorchSharp weights file per network. Every save goes through
/// <see cref="AtomicFiles"/>: a failed or killed save leaves the previous model as it was, never part of a new one.
/// </summary>
internal static class ModelDirectory
{
    public const string WeightsExtension = ".weights";

    /// <summary>
    /// Writes every file of the model to a temporary file beside its target, then moves them into place, the weights
    /// first and metadata.json last: nothing of the previous model changes until the whole new one is on disk.
    /// </summary>
    public static void Save(string directory, ModelMetadata metadata, IReadOnlyDictionary<string, nn.Module> networks)
    {
        var files = networks.Select(n => (n.Key + WeightsExtension, (Action<string>)(path => n.Value.save(path)))).ToList();
        files.Add((ModelMetadata.FileName, path => File.WriteAllText(path, SerializeMetadata(metadata))));
        AtomicFiles.Replace(directory, files);
    }

    public static string SerializeMetadata(ModelMetadata metadata) => JsonSerializer.Serialize(metadata, ModelMetadata.Json);

    public static ModelMetadata ReadMetadata(string directory)
    {
        CheckIsDirectory(directory);
        var path = Path.Combine(directory, ModelMetadata.FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No {ModelMetadata.FileName} in model directory '{directory}'.", path);
        return ParseMetadata(File.ReadAllText(path), path);
    }

    /// <summary>A model directory that is a file or missing is named as such.</summary>
    public static void CheckIsDirectory(string directory)
    {
        // A mistyped --model said "No metadata.json in model directory 'x'", as if x were there.
        if (File.Exists(directory)) throw new DirectoryNotFoundException($"model directory '{directory}' is a file, not a directory.");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"model directory '{directory}' does not exist.");
    }

    /// <param name="source">Where the JSON came from, for error messages.</param>
    public static ModelMetadata ParseMetadata(string json, string source)
    {
        ModelMetadata? metadata;
        try
        {
            metadata = JsonSerializer.Deserialize<ModelMetadata>(json, ModelMetadata.Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{source}' is not valid model metadata: {e.Message}", e);
        }
        if (metadata is null) throw new InvalidDataException($"'{source}' is empty.");
        if (metadata.Version != ModelMetadata.CurrentVersion)
            throw new InvalidDataException($"'{source}' has format version {metadata.Version}; this build reads version {ModelMetadata.CurrentVersion}.");
        // Every network has at least one hidden layer (an encoder has no other output): "hiddenSizes": [] failed in the
        // network's constructor, an ArgumentException read as a defect rather than a damaged model.
        if (metadata.HiddenSizes is not { Count: > 0 } hidden || hidden.Any(size => size < 1))
            throw new InvalidDataException($"'{source}' is not valid model metadata: hiddenSizes is {JsonSerializer.Serialize(metadata.HiddenSizes)}; a model has at least one hidden layer, each of at least 1 unit.");
        return metadata;
    }

    public static void LoadWeights(string directory, string name, nn.Module module)
    {
        var path = Path.Combine(directory, name + WeightsExtension);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model directory '{directory}' has no {name}.weights.", path);
        try
        {
            module.load(path);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
        {
            // TorchSharp says "Attempted to read past the end of the stream." or "Mismatched state_dict sizes", not which file.
            throw new InvalidDataException($"'{path}' is not a readable {name} weights file for this model: {e.Message}", e);
        }
        Algorithms.WeightGeneration.Bump();
    }

    public static void ExpectAlgorithm(string directory, ModelMetadata metadata, string algorithm, string kind)
    {
        if (!string.Equals(metadata.Algorithm, algorithm, StringComparison.OrdinalIgnoreCase) || metadata.Kind != kind)
            throw new InvalidDataException(
                $"Model at '{directory}' is a {metadata.Kind} {metadata.Algorithm} model; expected a {kind} {algorithm} model.");
    }

    /// <summary>Saves a placement agent's learner weights with the metadata every placement agent writes.</summary>
    public static void SaveAgent<TState>(string directory, string algorithm, string kind, FeatureLayout layout,
        Algorithms.IPolicyLearner<TState> learner, ModelProvenance? provenance) =>
        Save(directory, new ModelMetadata
        {
            Algorithm = algorithm,
            Kind = kind,
            FeatureLayout = layout,
            HiddenSizes = learner.HiddenSizes.ToArray(),
            Seed = learner.Seed,
            Trace = provenance?.Trace,
            Command = provenance?.Command,
            TrainingMetrics = provenance?.TrainingMetrics ?? new Dictionary<string, double>(),
        }, new Dictionary<string, nn.Module> { [learner.WeightsName] = learner.Weights });

    /// <summary>Reads a placement agent's metadata, checking its algorithm, kind and feature layout.</summary>
    public static ModelMetadata ReadAgent(string directory, string algorithm, string kind, FeatureLayout expectedLayout)
    {
        var metadata = ReadMetadata(directory);
        ExpectAlgorithm(directory, metadata, algorithm, kind);
        if (!metadata.FeatureLayout.Equals(expectedLayout))
            throw new ModelLayoutMismatchException(directory, metadata.FeatureLayout, expectedLayout);
        return metadata;
    }
}
