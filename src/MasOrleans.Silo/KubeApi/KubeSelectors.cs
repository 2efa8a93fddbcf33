namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// ?labelSelector= and ?fieldSelector= as the API server reads them (k8s.io/apimachinery labels.Parse and
/// fields.ParseSelector): comma-separated requirements that must all hold.
/// </summary>
internal sealed class KubeSelector
{
    private readonly List<Func<Func<string, string?>, bool>> _requirements = [];

    public static KubeSelector All { get; } = new();

    public bool Matches(Func<string, string?> valueOf) => _requirements.All(r => r(valueOf));

    public bool Matches(IDictionary<string, string>? labels) => Matches(key => labels is not null && labels.TryGetValue(key, out var v) ? v : null);

    /// <summary>key=v, key==v, key!=v, key in (a,b), key notin (a), key, !key.</summary>
    public static string? TryParseLabels(string? text, out KubeSelector selector)
    {
        selector = new KubeSelector();
        foreach (var part in SplitTopLevel(text))
        {
            var p = part.Trim();
            if (p.Length == 0) continue;
            if (TryParseSet(p, out var key, out var negate, out var values))
            {
                selector._requirements.Add(v => v(key) is { } actual ? values.Contains(actual) != negate : negate);
                continue;
            }
            if (p.StartsWith('!'))
            {
                var absent = p[1..].Trim();
                selector._requirements.Add(v => v(absent) is null);
                continue;
            }
            if (TryParseEquality(p, out key, out var value, out negate))
            {
                selector._requirements.Add(v => (v(key) == value) != negate);
                continue;
            }
            if (p.Any(c => c is ' ' or '=' or '!' or '(' or ')')) return $"unable to parse requirement: '{p}'";
            selector._requirements.Add(v => v(p) is not null);
        }
        return null;
    }

    /// <summary>Field selectors allow only equality on the fields <paramref name="supported"/> names.</summary>
    public static string? TryParseFields(string? text, IReadOnlySet<string> supported, out KubeSelector selector)
    {
        selector = new KubeSelector();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParseEquality(part, out var key, out var value, out var negate)) return $"invalid selector: '{part}'; can't understand '{part}'";
            if (!supported.Contains(key)) return $"field label not supported: {key}";
            selector._requirements.Add(v => ((v(key) ?? "") == value) != negate);
        }
        return null;
    }

    private static bool TryParseEquality(string part, out string key, out string value, out bool negate)
    {
        negate = false;
        var at = part.IndexOf("!=", StringComparison.Ordinal);
        int length;
        if (at >= 0) { negate = true; length = 2; }
        else if ((at = part.IndexOf("==", StringComparison.Ordinal)) >= 0) length = 2;
        else if ((at = part.IndexOf('=')) >= 0) length = 1;
        else { key = value = ""; return false; }
        key = part[..at].Trim();
        value = part[(at + length)..].Trim();
        return key.Length > 0;
    }

    private static bool TryParseSet(string part, out string key, out bool negate, out HashSet<string> values)
    {
        key = "";
        negate = false;
        values = [];
        var open = part.IndexOf('(');
        if (open < 0 || !part.EndsWith(')')) return false;
        var head = part[..open].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (head is not [var k, var op] || op is not ("in" or "notin")) return false;
        key = k;
        negate = op == "notin";
        values = part[(open + 1)..^1].Split(',', StringSplitOptions.TrimEntries).ToHashSet();
        return true;
    }

    private static IEnumerable<string> SplitTopLevel(string? text)
    {
        if (string.IsNullOrEmpty(text)) yield break;
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }
}
