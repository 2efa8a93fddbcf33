using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace MasOrleans.Scheduling.Framework;

/// <summary>
/// The chosen node's score per plugin name, over two parallel arrays: one small array per decision instead of
/// a hashed dictionary. When a profile lists a plugin name twice, the later entry wins, as a dictionary
/// filled in profile order would.
/// </summary>
internal sealed class PluginScoreMap(string[] names, long[] scores) : IReadOnlyDictionary<string, long>
{
    public static readonly PluginScoreMap Empty = new([], []);

    public long this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no plugin '{key}'");
    public IEnumerable<string> Keys => names;
    public IEnumerable<long> Values => scores;
    public int Count => names.Length;
    public bool ContainsKey(string key) => Array.IndexOf(names, key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out long value)
    {
        var i = Array.IndexOf(names, key);
        value = i >= 0 ? scores[i] : 0;
        return i >= 0;
    }

    public IEnumerator<KeyValuePair<string, long>> GetEnumerator()
    {
        for (var i = 0; i < names.Length; i++) yield return new(names[i], scores[i]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
