using System.Diagnostics.CodeAnalysis;

namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// Policy settings that remember which keys a policy asked for while it was built, so a key no policy reads (a typo)
/// can be refused instead of silently running the defaults. Enumerating counts as reading every key.
/// </summary>
internal sealed class RecordingSettings(IReadOnlyDictionary<string, string> settings) : IReadOnlyDictionary<string, string>
{
    private readonly HashSet<string> _asked = new(StringComparer.Ordinal);

    public IReadOnlySet<string> Asked => _asked;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        _asked.Add(key);
        return settings.TryGetValue(key, out value);
    }

    public bool ContainsKey(string key)
    {
        _asked.Add(key);
        return settings.ContainsKey(key);
    }

    public string this[string key]
    {
        get
        {
            _asked.Add(key);
            return settings[key];
        }
    }

    public IEnumerable<string> Keys => AskedAll().Keys;
    public IEnumerable<string> Values => AskedAll().Values;
    public int Count => settings.Count;
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => AskedAll().GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private IReadOnlyDictionary<string, string> AskedAll()
    {
        _asked.UnionWith(settings.Keys);
        return settings;
    }
}
