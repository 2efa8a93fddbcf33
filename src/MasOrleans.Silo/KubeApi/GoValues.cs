using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Values as the API server's messages print them with Go's %q, %#v and %+v (field.Invalid and field.NotSupported
/// values, apimachinery pkg/util/validation/field/errors.go), in one place for every message that quotes one.
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

    /// <summary>
    /// A JSON value as %+v prints what apimachinery decodes it into (sigs.k8s.io/json, preserving ints): an object a
    /// map[string]interface{}, its keys sorted (fmt's internal/fmtsort, byte order), map[a:1 b:[x y]]; a list []interface{},
    /// [x y]; a string as it is; null &lt;nil&gt;; a number an int64 when it is one (an integer in range), else a float64.
    /// </summary>
    public static string PlusV(JsonNode? value)
    {
        var printed = new StringBuilder();
        PlusV(value, printed);
        return printed.ToString();
    }

    private static void PlusV(JsonNode? value, StringBuilder printed)
    {
        switch (value)
        {
            case null:
                printed.Append("<nil>");
                break;
            case JsonObject map:
                printed.Append("map[");
                var first = true;
                foreach (var (key, item) in map.OrderBy(kv => kv.Key, ByteOrder.Instance))
                {
                    if (!first) printed.Append(' ');
                    first = false;
                    printed.Append(key).Append(':');
                    PlusV(item, printed);
                }
                printed.Append(']');
                break;
            case JsonArray list:
                printed.Append('[');
                for (var i = 0; i < list.Count; i++)
                {
                    if (i > 0) printed.Append(' ');
                    PlusV(list[i], printed);
                }
                printed.Append(']');
                break;
            default:
                printed.Append(value.GetValueKind() switch
                {
                    JsonValueKind.String => value.GetValue<string>(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Number => Number(value.ToJsonString()),
                    _ => "<nil>",
                });
                break;
        }
    }

    /// <summary>A JSON number as apimachinery decodes it: an int64 when its text is an integer in range, else a float64.</summary>
    private static string Number(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
            ? integer.ToString(CultureInfo.InvariantCulture)
            : Float(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));

    /// <summary>
    /// A float64 as %v prints it, strconv's shortest 'g' (src/strconv/ftoa.go, formatDigits): the fewest digits that read
    /// back as the number, in %e form (1.5e+07, 1e-05: two exponent digits at least) when the exponent is below -4 or at
    /// least 6, else as a decimal.
    /// </summary>
    private static string Float(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsInfinity(value)) return value > 0 ? "+Inf" : "-Inf";
        var sign = double.IsNegative(value) ? "-" : "";
        // .NET's round-trip form has the same shortest digits: "123.45", "0.0001", "1.5E-05", "1E+16".
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var e = shortest.IndexOfAny(['E', 'e']);
        var mantissa = e < 0 ? shortest : shortest[..e];
        var point = mantissa.IndexOf('.');
        var all = mantissa.Replace(".", "");
        var digits = all.TrimStart('0');
        if (digits.Length == 0) return sign + "0";
        // The decimal exponent of the first significant digit.
        var exponent = (e < 0 ? 0 : int.Parse(shortest[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture))
            + (point < 0 ? mantissa.Length : point) - 1 - (all.Length - digits.Length);
        digits = digits.TrimEnd('0');
        if (exponent < -4 || exponent >= 6)
            return $"{sign}{(digits.Length == 1 ? digits : $"{digits[0]}.{digits[1..]}")}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        if (exponent < 0) return $"{sign}0.{new string('0', -exponent - 1)}{digits}";
        return digits.Length <= exponent + 1
            ? sign + digits + new string('0', exponent + 1 - digits.Length)
            : $"{sign}{digits[..(exponent + 1)]}.{digits[(exponent + 1)..]}";
    }

    /// <summary>Strings in UTF-8 byte order, as Go compares them: by code point, where UTF-16 order puts U+E000..U+FFFF after a surrogate pair.</summary>
    private sealed class ByteOrder : IComparer<string>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var left = (x ?? "").EnumerateRunes();
            var right = (y ?? "").EnumerateRunes();
            while (true)
            {
                var more = left.MoveNext();
                if (more != right.MoveNext()) return more ? 1 : -1;
                if (!more) return 0;
                if (left.Current.Value != right.Current.Value) return left.Current.Value.CompareTo(right.Current.Value);
            }
        }
    }

    /// <summary>A []string as %#v prints it: []string{"a", "b"}.</summary>
    public static string Strings(IEnumerable<string> values) => $"[]string{{{string.Join(", ", values.Select(Quoted))}}}";

    /// <summary>A map[string]string as %#v prints it: keys sorted (byte order, as %+v's), each key and value quoted.</summary>
    public static string Map(IDictionary<string, string>? map) => map is null
        ? "map[string]string(nil)"
        : $"map[string]string{{{string.Join(", ", map.OrderBy(kv => kv.Key, ByteOrder.Instance).Select(kv => $"{Quoted(kv.Key)}:{Quoted(kv.Value)}"))}}}";

    /// <summary>
    /// A JSON value as Go's json.Marshal writes it (src/encoding/json/encode.go, appendString): UTF-8 as it is, with only a
    /// quote, a backslash, a control character (\b \f \n \r \t by name, others \u00hh), &lt;, &gt;, &amp;, U+2028 and
    /// U+2029 escaped; System.Text.Json's default encoder also escapes every non-ASCII character, + and '.
    /// </summary>
    public static string Json(JsonNode? value)
    {
        // The relaxed encoder leaves HTML characters as they are and escapes by \uHHHH what it will not write (controls,
        // characters outside its ranges): each escape is read back and written as Go would.
        var relaxed = value?.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "null";
        var go = new StringBuilder(relaxed.Length);
        for (var i = 0; i < relaxed.Length; i++)
        {
            var c = relaxed[i];
            if (c == '\\' && relaxed[i + 1] == 'u')
            {
                var escaped = (char)int.Parse(relaxed.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (escaped is '"' or '\\') go.Append('\\').Append(escaped);
                else AppendAsGo(go, escaped);
                i += 5;
            }
            else if (c == '\\')
            {
                go.Append(c).Append(relaxed[++i]);
            }
            else AppendAsGo(go, c);
        }
        return go.ToString();
    }

    private static void AppendAsGo(StringBuilder go, char c)
    {
        if (c is '<' or '>' or '&' or '\u2028' or '\u2029' || c < ' ') go.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        else go.Append(c);
    }
}
