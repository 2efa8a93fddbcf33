using System.Text.RegularExpressions;

namespace MasOrleans.Cli.Tests;

/// <summary>
/// Every `mas verb --flag` the docs show a user (README, docs/, models/, data/traces/, the serve verb's README) names a verb and an
/// option that verb has, so a renamed or removed option cannot stay in a command people copy.
/// </summary>
public partial class DocumentedCommandsTests
{
    private static readonly string[] Documents = ["README.md", "models/README.md", "data/traces/README.md", "src/MasOrleans.Cli/Serve/README.md"];
    private static readonly string[] DocumentFolders = ["docs", "docs/learning"];

    /// <summary>`mas verb ...` or `dotnet run --project src/MasOrleans.Cli -- verb ...`, up to the end of the code span or line.</summary>
    [GeneratedRegex(@"(?:\bmas|MasOrleans\.Cli(?: -c Release)? --) ([a-z][a-z-]*)([^`\n]*)")]
    private static partial Regex Command();

    [GeneratedRegex(@"(?<![\w-])--[a-zA-Z][-a-zA-Z_]*")]
    private static partial Regex Flag();

    public static IEnumerable<(string Document, string Verb, string Flag)> DocumentedFlags()
    {
        var files = Documents.Concat(DocumentFolders.SelectMany(folder =>
            Directory.GetFiles(Path.Combine(TestFiles.RepoRoot, folder), "*.md").Select(f => Path.GetRelativePath(TestFiles.RepoRoot, f))));
        foreach (var file in files)
        {
            // A shell line continued with a backslash is one command.
            var text = File.ReadAllText(Path.Combine(TestFiles.RepoRoot, file)).Replace("\\\n", " ", StringComparison.Ordinal);
            foreach (Match command in Command().Matches(text))
            {
                yield return (file, command.Groups[1].Value, "");
                foreach (Match flag in Flag().Matches(command.Groups[2].Value)) yield return (file, command.Groups[1].Value, flag.Value);
            }
        }
    }

    [Fact]
    public void Every_documented_verb_and_flag_exists()
    {
        var verbs = MasVerbs.CreateRoot().Subcommands.ToDictionary(
            c => c.Name, c => c.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal));
        var documented = DocumentedFlags().ToList();
        Assert.Contains(documented, d => d is { Verb: "replay", Flag: "--policy" }); // the scan finds the commands at all
        var wrong = documented
            .Where(d => !verbs.TryGetValue(d.Verb, out var flags) || d.Flag.Length > 0 && !flags.Contains(d.Flag))
            .Select(d => d.Flag.Length == 0 ? $"{d.Document}: mas {d.Verb} (no such verb)" : $"{d.Document}: mas {d.Verb} {d.Flag}")
            .Distinct().ToList();
        Assert.True(wrong.Count == 0, "documented but not in the CLI: " + string.Join("; ", wrong));
    }
}
