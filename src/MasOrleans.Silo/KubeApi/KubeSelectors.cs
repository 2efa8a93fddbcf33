namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// ?labelSelector= and ?fieldSelector= as the API server reads them (k8s.io/apimachinery labels.Parse and
/// fields.ParseSelector): comma-separated requirements that must all hold.
/// </summary>
internal sealed class KubeSelector
{
    private readonly List<Func<Func<string, string?>, bool>> _requirements = [];
    // Field selectors' equalities (key=v, key==v), by key: the first one given.
    private readonly Dictionary<string, string> _equal = [];

    public static KubeSelector All { get; } = new();

    public bool Matches(Func<string, string?> valueOf) => _requirements.All(r => r(valueOf));

    public bool Matches(IDictionary<string, string>? labels) => Matches(key => labels is not null && labels.TryGetValue(key, out var v) ? v : null);

    /// <summary>The value a field selector requires of <paramref name="field"/> (field=v), when it names one: what a request
    /// for one object (kubectl rollout status's metadata.name=) can be answered from without listing the others.</summary>
    public string? Required(string field) => _equal.GetValueOrDefault(field);

    /// <summary>
    /// key=v, key==v, key!=v, key in (a,b), key notin (a), key, !key, key&gt;1, key&lt;1: the grammar of apimachinery's
    /// pkg/labels/selector.go Parse, with its errors ("found '=', expected: ',' or 'end of string'"), keys checked as
    /// qualified names and values as label values.
    /// </summary>
    public static string? TryParseLabels(string? text, out KubeSelector selector)
    {
        selector = new KubeSelector();
        return new LabelParser(text ?? "").Parse(selector._requirements);
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
            if (!negate) selector._equal.TryAdd(key, value);
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
}
