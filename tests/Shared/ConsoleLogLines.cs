namespace MasOrleans.Tests.Shared;

/// <summary>
/// The silo's console log as the simple formatter writes it: a header ("warn: Category[EventId]"), then, when scopes
/// are included (the silo's default), one line of scopes ("      => GrainType:mas-pod Pod:p1 => ..."), then the
/// message, then the exception's lines if any.
/// </summary>
internal static class ConsoleLogLines
{
    /// <summary>The index of the message line of the header at <paramref name="header"/>: the first after it that is no scope line.</summary>
    public static int MessageOf(IReadOnlyList<string> lines, int header)
    {
        var i = header + 1;
        while (i < lines.Count && IsScopes(lines[i])) i++;
        return i;
    }

    public static bool IsScopes(string line) => line.TrimStart().StartsWith("=> ", StringComparison.Ordinal);
}
