using System.Reflection;
using System.Security.Cryptography;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Cli.Replay;

/// <summary>One input of a run: the option that named it, as given, and the SHA-256 of its bytes (none for a generator spec, which is its own content).</summary>
internal sealed record InputFile(string Option, string Path, string? Sha256);

/// <summary>
/// What a result file needs to be traced back to beyond its command line: the tool's version with the commit it was
/// built from, the inputs by content (a trace edited in place keeps its name), and the policy settings.
/// </summary>
internal sealed record RunProvenance
{
    /// <summary>"mas 1.0.0+commit": the SDK adds the git commit to the informational version at build time.</summary>
    public required string Tool { get; init; }
    public required IReadOnlyList<InputFile> Inputs { get; init; }
    public required IReadOnlyDictionary<string, string> PolicySettings { get; init; }

    public static string ToolVersion { get; } =
        "mas " + (typeof(RunProvenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");

    /// <param name="models">The learned models' files as loaded (<see cref="LearnedModelOption.Load"/>), hashed then.</param>
    public static RunProvenance Of(IEnumerable<(string Option, string? Path)> inputs, IReadOnlyDictionary<string, string> settings, IEnumerable<InputFile>? models = null) => new()
    {
        Tool = ToolVersion,
        Inputs = [.. inputs.Where(i => i.Path is not null).Select(i => Describe(i.Option, i.Path!)), .. models ?? []],
        PolicySettings = new SortedDictionary<string, string>(settings.ToDictionary(), StringComparer.Ordinal),
    };

    private static InputFile Describe(string option, string path) =>
        new(option, path, NodeGenerator.IsSpec(path) ? null : Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
}
