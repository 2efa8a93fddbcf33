using System.Text.RegularExpressions;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Every record the product writes has an event id of its own, so an operator can find, count and alert on it: each goes
/// through a [LoggerMessage] that declares its EventId. Eleven Warnings and Errors did not: nine (the extender's error
/// answers, a failed training round, a failed gauge sample, ...) were event id 0, one with every other such record, and two
/// (the Redis data-loss stop, a shutdown cut short) an id the generator derived from a method's name. Six Information
/// records were event id 0 until session 45 (a key refused for its scope, the extender's node registered or updated, a
/// pod deleted, a node removed). docs/observability.md lists the Warnings and Errors for the operator.
/// </summary>
public sealed partial class LogEventIdsTests
{
    [Fact]
    public void Every_record_the_product_logs_has_an_event_id_of_its_own()
    {
        var problems = new List<string>();
        var ids = new List<(int Id, string Where)>();
        foreach (var path in SourceFiles())
            problems.AddRange(Scan(Path.GetRelativePath(RepoFiles.Root, path), File.ReadAllText(path), ids));
        Assert.True(ids.Count >= 60, $"expected the product's [LoggerMessage] declarations, found {ids.Count}: is the source tree where the test looks?");
        problems.AddRange(ids.GroupBy(i => i.Id).Where(g => g.Count() > 1).Select(g => $"event id {g.Key} is declared {g.Count()} times: {string.Join(", ", g.Select(i => i.Where))}"));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>
    /// Each rule refuses a planted source line, and the project's own form is read: the scanner is a function of text, so
    /// a form it cannot read is refused with what to write, never passed over (a positional or multi-line [LoggerMessage]
    /// was "without an EventId", and LoggerMessage.Define or new EventId(N) not seen at all).
    /// </summary>
    [Theory]
    [InlineData("logger.LogWarning(\"x\");", "writes event id 0")]
    [InlineData("logger.LogInformation(\"Node {Node} removed\", name);", "writes event id 0")]
    [InlineData("logger.LogDebug(\"x\");", "writes event id 0")]
    [InlineData("logger.Log(LogLevel.Information, \"x\");", "writes event id 0")]
    [InlineData("logger.Log(LogLevel.Error, \"x\");", "writes event id 0")]
    [InlineData("[LoggerMessage(EventId = 0, Level = LogLevel.Warning, Message = \"x\")]", "EventId 0")]
    [InlineData("[LoggerMessage(2113, LogLevel.Warning, \"x\")]", "positional [LoggerMessage(2113, ...)]")]
    [InlineData("[LoggerMessage(\n    EventId = 2113,\n    Level = LogLevel.Warning,\n    Message = \"x\")]", "no EventId on its first line")]
    [InlineData("[LoggerMessage(Level = LogLevel.Warning, EventId = 2113, Message = \"x\")]", "EventId first")]
    [InlineData("[LoggerMessage(EventId = 2113, Message = \"x\", Level = LogLevel.Warning)]", "Level right after the EventId")]
    [InlineData("static readonly Action<ILogger, Exception?> Lost = LoggerMessage.Define(LogLevel.Warning, default, \"x\");", "LoggerMessage.Define")]
    [InlineData("static readonly Action<ILogger, string, Exception?> Lost = LoggerMessage.Define<string>(LogLevel.Warning, new EventId(7), \"{X}\");", "LoggerMessage.Define")]
    [InlineData("logger.Log(level, new EventId(2113), \"x\");", "new EventId(2113)")]
    public void A_form_the_scan_cannot_read_is_refused_with_what_to_write(string source, string problem)
    {
        var problems = Scan("planted.cs", source, []);
        Assert.True(problems.Any(p => p.Contains(problem, StringComparison.Ordinal)), $"expected '{problem}' among: {string.Join(" | ", problems)}");
    }

    [Theory]
    [InlineData("[LoggerMessage(EventId = 2113, Level = LogLevel.Warning, Message = \"x\")]", 2113)]
    // A level given at each call (ExperienceRejections): the id is still declared.
    [InlineData("[LoggerMessage(EventId = 1605, Message = \"x\")]", 1605)]
    public void The_projects_form_is_read(string source, int id)
    {
        var ids = new List<(int Id, string Where)>();
        Assert.Empty(Scan("planted.cs", source, ids));
        Assert.Equal([(id, "planted.cs:1")], ids);
    }

    /// <summary>What in <paramref name="text"/> breaks the rules; the ids it declares are added to <paramref name="ids"/>.</summary>
    private static List<string> Scan(string where, string text, List<(int Id, string Where)> ids)
    {
        var problems = new List<string>();
        foreach (Match call in LevelExtensionCall().Matches(text))
            problems.Add($"{where}:{LineOf(text, call.Index)}: {call.Value.Trim()} writes event id 0; declare a [LoggerMessage] with an EventId");
        foreach (Match other in OtherEventIdForm().Matches(text))
            problems.Add($"{where}:{LineOf(text, other.Index)}: {other.Value} is not read here (src has none); declare a [LoggerMessage(EventId = N, Level = LogLevel.X, Message = ...)] instead");
        foreach (Match attribute in LoggerMessageAttribute().Matches(text))
        {
            var at = $"{where}:{LineOf(text, attribute.Index)}";
            if (ProjectForm().Match(attribute.Value) is not { Success: true } form)
            {
                problems.Add(Positional().Match(attribute.Value) is { Success: true } positional
                    ? $"{at}: positional [LoggerMessage({positional.Groups[1].Value}, ...)]; write EventId = {positional.Groups[1].Value}, Level = LogLevel.X by name on one line, the form this test and docs/observability.md's table read"
                    : attribute.Value.Contains("EventId", StringComparison.Ordinal)
                        ? $"{at}: [LoggerMessage] names its EventId after another argument; write EventId first: [LoggerMessage(EventId = N, Level = LogLevel.X, ...)]"
                        : $"{at}: [LoggerMessage] with no EventId on its first line (none, or an attribute over several lines); write [LoggerMessage(EventId = N, Level = LogLevel.X, ...)] with both on its first line");
                continue;
            }
            if (form.Groups["level"].Success is false && attribute.Value.Contains("Level =", StringComparison.Ordinal))
                problems.Add($"{at}: [LoggerMessage] with its Level apart from its EventId; write the Level right after the EventId: EventId = N, Level = LogLevel.X");
            else if (int.Parse(form.Groups["id"].Value) == 0)
                problems.Add($"{at}: [LoggerMessage] with EventId 0, the id of every undeclared record");
            else ids.Add((int.Parse(form.Groups["id"].Value), at));
        }
        return problems;
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

    /// <summary>ILogger's extension methods at any level, and Log with a level or a level chosen at run time (a variable
    /// named level or logLevel): they take no event id here. Warning and above only until session 45, which let six
    /// Information records through with event id 0.</summary>
    [GeneratedRegex(@"\.(LogTrace|LogDebug|LogInformation|LogWarning|LogError|LogCritical)\(|\.Log\(\s*LogLevel\.\w+|\.Log\(\s*(level|logLevel)\b")]
    private static partial Regex LevelExtensionCall();

    /// <summary>A [LoggerMessage( and the rest of its line.</summary>
    [GeneratedRegex(@"\[LoggerMessage\([^\n]*")]
    private static partial Regex LoggerMessageAttribute();

    /// <summary>The project's form: EventId first, by name, and the Level (when the attribute fixes one) right after it.</summary>
    [GeneratedRegex(@"^\[LoggerMessage\(EventId = (?<id>\d+)(, Level = LogLevel\.(?<level>\w+))?")]
    private static partial Regex ProjectForm();

    [GeneratedRegex(@"^\[LoggerMessage\(\s*(\d+)\s*,")]
    private static partial Regex Positional();

    /// <summary>Event ids given other than by [LoggerMessage] (LoggerMessage.DefineScope makes a scope, not a record).</summary>
    [GeneratedRegex(@"LoggerMessage\.Define(<[^>\n]*>)?(?=\()|new EventId\([^)\n]*\)")]
    private static partial Regex OtherEventIdForm();

    [GeneratedRegex(@"\[LoggerMessage\(EventId = (?<id>\d+), Level = LogLevel\.(?<level>\w+)")]
    private static partial Regex DeclaredLevel();

    /// <summary>A row of the table: | 1203 | Error | `Class` | message |.</summary>
    [GeneratedRegex(@"^\| (?<id>\d{4,}) \| (?<level>Warning|Error|Critical) \|")]
    private static partial Regex DocumentedRow();
}
