namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Values as the API server's messages print them with Go's %#v (field.Invalid and field.NotSupported values,
/// apimachinery pkg/util/validation/field/errors.go), in one place for every message that quotes one.
/// </summary>
internal static class GoValues
{
    /// <summary>A string as %q prints it; only a backslash and a quote are escaped (label keys and values need no more).</summary>
    public static string Quoted(string? text) => $"\"{(text ?? "").Replace("\\", "\\\\").Replace("\"", "\\\"")}\"";

    /// <summary>A []string as %#v prints it: []string{"a", "b"}.</summary>
    public static string Strings(IEnumerable<string> values) => $"[]string{{{string.Join(", ", values.Select(Quoted))}}}";

    /// <summary>A map[string]string as %#v prints it: keys sorted, each key and value quoted.</summary>
    public static string Map(IDictionary<string, string>? map) => map is null
        ? "map[string]string(nil)"
        : $"map[string]string{{{string.Join(", ", map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{Quoted(kv.Key)}:{Quoted(kv.Value)}"))}}}";
}
