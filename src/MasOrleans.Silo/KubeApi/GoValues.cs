using System.Globalization;
using System.Text;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Values as the API server's messages print them with Go's %#v (field.Invalid and field.NotSupported values,
/// apimachinery pkg/util/validation/field/errors.go), in one place for every message that quotes one.
/// </summary>
internal static class GoValues
{
    /// <summary>
    /// A string as %q and %#v print it, Go's strconv.Quote (src/strconv/quote.go, appendQuotedWith and appendEscapedRune):
    /// a quote and a backslash backslashed, a printable rune as it is, \a \b \f \n \r \t \v by name, any other rune below
    /// a space and DEL as \xhh, any other unprintable one as \uhhhh or \Uhhhhhhhh. A lone surrogate is U+FFFD, as Go's
    /// JSON decoding would have made it.
    /// </summary>
    public static string Quoted(string? text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var rune in (text ?? "").EnumerateRunes())
        {
            var r = rune.Value;
            if (r is '"' or '\\') quoted.Append('\\').Append((char)r);
            else if (Printable(rune)) quoted.Append(rune.ToString());
            else quoted.Append(r switch
            {
                '\a' => "\\a", '\b' => "\\b", '\f' => "\\f", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", '\v' => "\\v",
                < ' ' or 0x7f => $"\\x{r:x2}",
                < 0x10000 => $"\\u{r:x4}",
                _ => $"\\U{r:x8}",
            });
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>Go's unicode.IsPrint: letters, marks, numbers, punctuation and symbols, and the ASCII space only.</summary>
    private static bool Printable(Rune rune) => rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Control
            or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => false,
        _ => true,
    };

    /// <summary>A []string as %#v prints it: []string{"a", "b"}.</summary>
    public static string Strings(IEnumerable<string> values) => $"[]string{{{string.Join(", ", values.Select(Quoted))}}}";

    /// <summary>A map[string]string as %#v prints it: keys sorted, each key and value quoted.</summary>
    public static string Map(IDictionary<string, string>? map) => map is null
        ? "map[string]string(nil)"
        : $"map[string]string{{{string.Join(", ", map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{Quoted(kv.Key)}:{Quoted(kv.Value)}"))}}}";
}
