namespace MasOrleans.Silo.Api;

/// <summary>
/// What a .NET type that refused a value takes, in a user's words: one wording for the REST decoder's errors and the
/// configuration binder's. Their messages are the same for 1.5 and for a number beyond the type, so a whole number's
/// kind names its range too ("99999999999" is a whole number, just not one that fits).
/// </summary>
internal static class ValueKinds
{
    /// <summary>The kind for a type name as the decoder and the binder print it (Nullable unwrapped); null when not a plain value.</summary>
    public static string? Of(string clrType)
    {
        var type = clrType.StartsWith("System.Nullable`1[", StringComparison.Ordinal) ? clrType["System.Nullable`1[".Length..^1] : clrType;
        return type switch
        {
            "System.Int32" => $"a whole number from {int.MinValue} to {int.MaxValue}",
            "System.Int64" => $"a whole number from {long.MinValue} to {long.MaxValue}",
            "System.Int16" => $"a whole number from {short.MinValue} to {short.MaxValue}",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Boolean" => "true or false",
            "System.String" => "a string",
            "System.TimeSpan" => "a time span ([d.]hh:mm:ss[.fff])",
            _ => null,
        };
    }
}
