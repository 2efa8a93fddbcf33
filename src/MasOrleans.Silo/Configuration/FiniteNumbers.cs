using System.Collections;
using System.Globalization;
using System.Reflection;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// The one rule every number setting is held to at start, whatever its own check says: it is finite. The binder reads
/// "Infinity", "NaN" and "1e400" (which overflows to infinity) into a double, and a check written as `>= 0` or `> 0`
/// passes infinity (and `< 0` passes NaN): Learning__Online__ExpertMargin=Infinity started the silo.
/// </summary>
internal static class FiniteNumbers
{
    private const string Rule = " must be a finite number, not ";

    /// <summary>One line per non-finite number in <paramref name="options"/>, bound from <paramref name="section"/>.</summary>
    public static IEnumerable<string> Problems(IConfiguration config, object options, string section)
    {
        foreach (var (path, value) in NonFinite(options, section.Replace(":", "__", StringComparison.Ordinal), depth: 0))
            yield return $"{path}{Rule}'{config[path.Replace("__", ":", StringComparison.Ordinal)] ?? value.ToString(CultureInfo.InvariantCulture)}'";
    }

    /// <summary>
    /// <paramref name="problems"/> without the other lines about a setting this rule named, so each bad setting is one
    /// line (a period's own check also refused Infinity, in its own words).
    /// </summary>
    public static List<string> OneLineEach(List<string> problems)
    {
        var named = problems.Where(p => p.Contains(Rule, StringComparison.Ordinal)).Select(p => p[..p.IndexOf(Rule, StringComparison.Ordinal)]).ToHashSet();
        return problems.Where(p => p.Contains(Rule, StringComparison.Ordinal) || !named.Contains(p.Split(' ', 2)[0])).ToList();
    }

    private static IEnumerable<(string Path, double Value)> NonFinite(object? value, string path, int depth)
    {
        switch (value)
        {
            case double d:
                if (!double.IsFinite(d)) yield return (path, d);
                yield break;
            case float f:
                if (!float.IsFinite(f)) yield return (path, f);
                yield break;
            case null or string or decimal or TimeSpan or Enum or bool or int or long or Uri:
                yield break;
        }
        if (depth > 8) yield break; // options are trees a few levels deep; this only guards against a cycle
        if (value is IDictionary map)
        {
            foreach (DictionaryEntry entry in map)
                foreach (var found in NonFinite(entry.Value, $"{path}__{entry.Key}", depth + 1)) yield return found;
            yield break;
        }
        if (value is IEnumerable items)
        {
            var index = 0;
            foreach (var item in items)
                foreach (var found in NonFinite(item, $"{path}__{index++}", depth + 1)) yield return found;
            yield break;
        }
        // The settings' own types (and the top-level options bound from a section, whatever their assembly).
        var type = value.GetType();
        if (depth > 0 && type.Namespace?.StartsWith("MasOrleans", StringComparison.Ordinal) != true) yield break;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null || property.SetMethod is null) continue;
            foreach (var found in NonFinite(property.GetValue(value), $"{path}__{property.Name}", depth + 1)) yield return found;
        }
    }
}
