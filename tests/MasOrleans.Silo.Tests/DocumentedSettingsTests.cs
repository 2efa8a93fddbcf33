using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Every setting README.md and docs/*.md name as an environment variable (`Section__Key`) is one the code reads: its
/// key is in the source (`"Section:Key"`), or the section is and the key is a property of an options class. A setting
/// renamed or removed in code cannot stay documented as if it worked.
/// </summary>
public partial class DocumentedSettingsTests
{
    /// <summary>Sections .NET itself reads (logging, Kestrel), not ours.</summary>
    private static readonly string[] FrameworkSections = ["Logging", "Kestrel"];

    // Not the parts of a `{A,B__C}` group, which name keys under the setting before it.
    [GeneratedRegex(@"(?<![{,\w])[A-Z][A-Za-z]+(?:__(?:[A-Za-z0-9]+|\*))+")]
    private static partial Regex Setting();

    [GeneratedRegex(@"\bpublic\s+[\w<>\[\]?,. ]+?\s+(\w+)\s*\{\s*get;\s*(?:set|init);")]
    private static partial Regex SettableProperty();

    private static readonly Lazy<string> Source = new(() => string.Join('\n',
        Directory.GetFiles(RepoFiles.Path("src"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(RepoFiles.Path("src"), "appsettings*.json", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText)));

    public static IEnumerable<(string Document, string Setting)> DocumentedSettings() =>
        new[] { "README.md" }.Concat(Directory.GetFiles(RepoFiles.Path("docs"), "*.md").Select(f => Path.GetRelativePath(RepoFiles.Root, f)))
            .SelectMany(doc => Setting().Matches(RepoFiles.Read(doc)).Select(m => (doc, m.Value)))
            .Where(d => !FrameworkSections.Contains(d.Value.Split("__")[0]))
            .Distinct();

    /// <summary>The key up to its first list index (`N`, `M`, `K`, `0` or `key` in the docs) or wildcard, as configuration spells it.</summary>
    private static string[] NamedPath(string setting) =>
        setting.Split("__").TakeWhile(s => s is not ("*" or "key") && !(s.Length == 1 && char.IsUpper(s[0])) && !s.All(char.IsAsciiDigit)).ToArray();

    private static bool IsRead(string setting)
    {
        var path = NamedPath(setting);
        var source = Source.Value;
        if (source.Contains($"\"{string.Join(':', path)}", StringComparison.Ordinal)) return true;
        var properties = SettableProperty().Matches(source).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var sectionNamed = source.Contains($"\"{path[0]}\"", StringComparison.Ordinal) || source.Contains($"\"{path[0]}:", StringComparison.Ordinal);
        return sectionNamed && path.Length > 1 && properties.Contains(path[^1]);
    }

    [Fact]
    public void Every_documented_setting_is_read_by_the_code()
    {
        var documented = DocumentedSettings().ToList();
        Assert.Contains(documented, d => d.Setting == "Scheduler__MaxInFlight"); // the scan finds the settings at all
        var unread = documented.Where(d => !IsRead(d.Setting)).Select(d => $"{d.Document}: {d.Setting}").ToList();
        Assert.True(unread.Count == 0, "documented but read nowhere in src/: " + string.Join("; ", unread));
    }
}
