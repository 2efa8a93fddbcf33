using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Every Warning, Error and Critical record the product writes has an event id of its own, so an operator can find,
/// count and alert on it: each goes through a [LoggerMessage] that declares its EventId. Eleven did not: nine (the
/// extender's error answers, a failed training round, a failed gauge sample, ...) were event id 0, one with every other
/// such record, and two (the Redis data-loss stop, a shutdown cut short) an id the generator derived from a method's name. docs/observability.md lists them for the operator.
/// </summary>
public sealed partial class LogEventIdsTests
{
    [Fact]
    public void Every_warning_and_error_the_product_logs_has_an_event_id_of_its_own()
    {
        var problems = new List<string>();
        var ids = new List<(int Id, string Where)>();
        foreach (var path in SourceFiles())
        {
            var text = File.ReadAllText(path);
            var where = Path.GetRelativePath(RepoFiles.Root, path);
            foreach (Match call in LevelExtensionCall().Matches(text))
                problems.Add($"{where}:{LineOf(text, call.Index)}: {call.Value.Trim()} writes event id 0; declare a [LoggerMessage] with an EventId");
            foreach (Match attribute in LoggerMessageAttribute().Matches(text))
            {
                var id = EventIdArgument().Match(attribute.Value);
                if (id.Success && int.Parse(id.Groups[1].Value) == 0)
                    problems.Add($"{where}:{LineOf(text, attribute.Index)}: [LoggerMessage] with EventId 0, the id of every undeclared record");
                else if (id.Success) ids.Add((int.Parse(id.Groups[1].Value), $"{where}:{LineOf(text, attribute.Index)}"));
                else problems.Add($"{where}:{LineOf(text, attribute.Index)}: [LoggerMessage] without an EventId");
            }
        }
        Assert.True(ids.Count >= 60, $"expected the product's [LoggerMessage] declarations, found {ids.Count}: is the source tree where the test looks?");
        problems.AddRange(ids.GroupBy(i => i.Id).Where(g => g.Count() > 1).Select(g => $"event id {g.Key} is declared {g.Count()} times: {string.Join(", ", g.Select(i => i.Where))}"));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>docs/observability.md's table of event ids lists every Warning, Error and Critical one src declares, at its level, and no other.</summary>
    [Fact]
    public void The_documented_event_ids_are_the_warnings_and_errors_src_declares()
    {
        var declared = new Dictionary<int, string>();
        foreach (var path in SourceFiles())
            foreach (Match attribute in DeclaredLevel().Matches(File.ReadAllText(path)))
                if (attribute.Groups["level"].Value is "Warning" or "Error" or "Critical")
                    declared[int.Parse(attribute.Groups["id"].Value)] = attribute.Groups["level"].Value;
        var documented = new Dictionary<int, string>();
        foreach (var line in RepoFiles.Read("docs/observability.md").Split('\n'))
            if (DocumentedRow().Match(line) is { Success: true } row) documented[int.Parse(row.Groups["id"].Value)] = row.Groups["level"].Value;

        Assert.True(declared.Count >= 40, $"expected the product's Warning and Error event ids, found {declared.Count}");
        var problems = declared.Where(d => !documented.ContainsKey(d.Key)).Select(d => $"{d.Key} ({d.Value}): declared, not in docs/observability.md's table")
            .Concat(documented.Where(d => !declared.ContainsKey(d.Key)).Select(d => $"{d.Key} ({d.Value}): in the table, not a Warning or Error src declares"))
            .Concat(declared.Where(d => documented.TryGetValue(d.Key, out var level) && level != d.Value).Select(d => $"{d.Key}: {d.Value} in src, {documented[d.Key]} in the table"))
            .ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(RepoFiles.Path("src"), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"));

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    /// <summary>ILogger's extension methods at Warning and above, and Log with such a level or a level chosen at run time
    /// (a variable named level or logLevel): they take no event id here.</summary>
    [GeneratedRegex(@"\.(LogWarning|LogError|LogCritical)\(|\.Log\(\s*LogLevel\.(Warning|Error|Critical)|\.Log\(\s*(level|logLevel)\b")]
    private static partial Regex LevelExtensionCall();

    /// <summary>A [LoggerMessage( and the rest of its line, where this code names the EventId (first).</summary>
    [GeneratedRegex(@"\[LoggerMessage\([^\n]*")]
    private static partial Regex LoggerMessageAttribute();

    [GeneratedRegex(@"EventId\s*=\s*(\d+)")]
    private static partial Regex EventIdArgument();

    [GeneratedRegex(@"\[LoggerMessage\(EventId = (?<id>\d+), Level = LogLevel\.(?<level>\w+)")]
    private static partial Regex DeclaredLevel();

    /// <summary>A row of the table: | 1203 | Error | `Class` | message |.</summary>
    [GeneratedRegex(@"^\| (?<id>\d{4,}) \| (?<level>Warning|Error|Critical) \|")]
    private static partial Regex DocumentedRow();
}
