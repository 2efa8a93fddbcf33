using System.Globalization;

namespace MasOrleans.Scheduling.Resources;

/// <summary>Parses and formats Kubernetes quantities ("500m", "2", "512Mi", "1Gi", "1e3").</summary>
public static class Quantity
{
    private static readonly (string Suffix, decimal Factor)[] Suffixes =
    [
        ("Ki", 1024m), ("Mi", 1024m * 1024), ("Gi", 1024m * 1024 * 1024), ("Ti", 1024m * 1024 * 1024 * 1024),
        ("Pi", 1024m * 1024 * 1024 * 1024 * 1024), ("Ei", 1024m * 1024 * 1024 * 1024 * 1024 * 1024),
        ("n", 0.000000001m), ("u", 0.000001m), ("m", 0.001m), ("k", 1000m), ("M", 1_000_000m),
        ("G", 1_000_000_000m), ("T", 1_000_000_000_000m), ("P", 1_000_000_000_000_000m), ("E", 1_000_000_000_000_000_000m),
    ];

    /// <summary>Parses a quantity into its value in base units (cores, bytes, GPUs...).</summary>
    public static bool TryParse(string? text, out decimal value) => Read(text, out value) == QuantityReading.Valid;

    /// <summary>
    /// Reads a quantity into its value in base units (cores, bytes, GPUs...): <see cref="QuantityReading.TooLarge"/> for a
    /// well-formed one beyond a decimal (about 7.9e28).
    /// </summary>
    public static QuantityReading Read(string? text, out decimal value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text) || text.Length > 64) return QuantityReading.Malformed;
        var s = text;
        decimal factor = 1;
        foreach (var (suffix, f) in Suffixes)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal) && s.Length > suffix.Length && char.IsDigit(s[^(suffix.Length + 1)]) )
            {
                factor = f;
                s = s[..^suffix.Length];
                break;
            }
        }
        // Only plain decimal digits with an optional exponent: no signs, no spaces, no hex. A suffix or an exponent, not
        // both (apimachinery quantity.go parseQuantityString: "1e3m" is ErrFormatWrong).
        var suffixed = s.Length != text.Length;
        foreach (var c in s)
        {
            if (!(char.IsAsciiDigit(c) || c is '.' || (!suffixed && c is 'e' or 'E' or '+' or '-'))) return QuantityReading.Malformed;
        }
        if (s.StartsWith('-') || s.StartsWith('+')) return QuantityReading.Malformed;
        const NumberStyles Styles = NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
        if (!decimal.TryParse(s, Styles, CultureInfo.InvariantCulture, out var number))
        {
            // The same grammar with a double's range (beyond it, infinity): what parses there but not as a decimal is a
            // well-formed number too large for one ("1e29", 29 digits), not a malformed one.
            return double.TryParse(s, Styles, CultureInfo.InvariantCulture, out _) ? QuantityReading.TooLarge : QuantityReading.Malformed;
        }
        try
        {
            value = number * factor;
        }
        catch (OverflowException)
        {
            return QuantityReading.TooLarge;
        }
        return value >= 0 ? QuantityReading.Valid : QuantityReading.Malformed;
    }

    /// <summary>The largest stored value (milli or bytes): a quarter of a long leaves room for sums over a node's pods.</summary>
    public const long MaxStored = long.MaxValue / 4;

    /// <summary>
    /// Parses a quantity for a dimension into the dimension's stored unit (milli or bytes), rounding up like Kubernetes;
    /// false for a value no stored long can hold.
    /// </summary>
    public static bool TryParse(ResourceKind kind, string? text, out long stored) => Read(kind, text, out stored) == QuantityReading.Valid;

    /// <summary>
    /// Reads a quantity for a dimension into the dimension's stored unit (milli or bytes), rounding up like Kubernetes:
    /// <see cref="QuantityReading.TooLarge"/> for a well-formed one above <see cref="MaxStored"/>. The one rule every
    /// surface that says "exceeds the maximum" or "not a valid quantity" goes by.
    /// </summary>
    public static QuantityReading Read(ResourceKind kind, string? text, out long stored)
    {
        stored = 0;
        if (Read(text, out var value) is not QuantityReading.Valid and var reading) return reading;
        var unit = ResourceNames.IsStoredInMilli(kind) ? 1000m : 1m;
        // Compared before scaling: a decimal holds up to 7.9e28, so 1e28 cores would overflow while turned into milli.
        if (value > MaxStored / unit) return QuantityReading.TooLarge;
        stored = (long)decimal.Ceiling(value * unit);
        return QuantityReading.Valid;
    }

    public static long Parse(ResourceKind kind, string text) =>
        TryParse(kind, text, out var v) ? v : throw new FormatException($"'{text}' is not a valid quantity for {ResourceNames.NameOf(kind)}");

    /// <summary>Formats a stored value back to the shortest exact Kubernetes quantity.</summary>
    public static string Format(ResourceKind kind, long stored)
    {
        Span<char> text = stackalloc char[MaxFormattedLength];
        return new string(text[..Format(kind, stored, text)]);
    }

    /// <summary>
    /// The most characters <see cref="Format(ResourceKind, long, Span{char})"/> writes, with room to spare: long.MinValue's
    /// 20 (its sign and 19 digits) and a suffix of at most 2.
    /// </summary>
    public const int MaxFormattedLength = 24;

    private static readonly string[] BinarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];

    /// <summary>
    /// <see cref="Format(ResourceKind, long)"/> into <paramref name="destination"/> (at least <see cref="MaxFormattedLength"/>
    /// long), answering the length: the JSON writer of every stored vector writes it with no string of its own.
    /// </summary>
    public static int Format(ResourceKind kind, long stored, Span<char> destination)
    {
        // Checked once here, so no TryFormat below can run out of room and leave its digits unwritten.
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, MaxFormattedLength, nameof(destination));
        int written;
        if (ResourceNames.IsStoredInMilli(kind))
        {
            if (stored % 1000 == 0)
            {
                (stored / 1000).TryFormat(destination, out written, provider: CultureInfo.InvariantCulture);
                return written;
            }
            stored.TryFormat(destination, out written, provider: CultureInfo.InvariantCulture);
            destination[written] = 'm';
            return written + 1;
        }
        if (stored == 0)
        {
            destination[0] = '0';
            return 1;
        }
        var unit = 0;
        var v = stored;
        while (unit < BinarySuffixes.Length - 1 && v % 1024 == 0)
        {
            v /= 1024;
            unit++;
        }
        v.TryFormat(destination, out written, provider: CultureInfo.InvariantCulture);
        BinarySuffixes[unit].CopyTo(destination[written..]);
        return written + BinarySuffixes[unit].Length;
    }
}
