using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The project's rule that a failure is loud: a Warning or Error with an EventId, each EventId used once across src, so an
/// operator can alert on it and find its one place. Read from the sources, as the rule is about how each is written: a
/// Warning written with <c>LogWarning(...)</c> has EventId 0, the same as every other such line (session 40 found the
/// extender's error answers, the cluster gauges' failed sample and the learning grain's failed rounds logged that way).
/// </summary>
public sealed partial class LogEventIdTests
{
    private static IEnumerable<(string File, int Line, string Text)> SourceLines() =>
        Directory.EnumerateFiles(RepoFiles.Path("src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((text, i) => (Path.GetRelativePath(RepoFiles.Root, f), i + 1, text)));

    [Fact]
    public void Every_warning_and_error_has_an_event_id_of_its_own()
    {
        var lines = SourceLines().ToList();
        // Extension methods without an EventId, and a level chosen at run time without one.
        var unnamed = lines.Where(l => ExtensionCall().IsMatch(l.Text) || LevelArgumentCall().IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}").ToList();
        // A generated log method at Warning or above, or at a level its caller passes, names its EventId.
        unnamed.AddRange(lines.Where(l => l.Text.Contains("[LoggerMessage(", StringComparison.Ordinal)
                && !l.Text.Contains("Level = LogLevel.Information", StringComparison.Ordinal)
                && !l.Text.Contains("Level = LogLevel.Debug", StringComparison.Ordinal)
                && !l.Text.Contains("Level = LogLevel.Trace", StringComparison.Ordinal)
                && !EventId().IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}"));
        Assert.True(unnamed.Count == 0, $"Warnings/Errors without an EventId:\n{string.Join("\n", unnamed)}");

        var reused = lines.Select(l => EventId().Match(l.Text)).Where(m => m.Success).GroupBy(m => m.Groups[1].Value)
            .Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(reused.Count == 0, $"EventIds used more than once: {string.Join(", ", reused)}");
    }

    [GeneratedRegex(@"\.Log(Warning|Error|Critical)\(")]
    private static partial Regex ExtensionCall();

    [GeneratedRegex(@"\b\w*[lL]ogger\.Log\(\s*level\b")]
    private static partial Regex LevelArgumentCall();

    [GeneratedRegex(@"EventId = ([0-9]+)")]
    private static partial Regex EventId();
}
