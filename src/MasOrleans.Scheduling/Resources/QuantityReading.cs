namespace MasOrleans.Scheduling.Resources;

/// <summary>
/// What <see cref="Quantity.Read(ResourceKind, string?, out long)"/> made of a quantity's text: a value too large to hold
/// is well-formed, so callers call it over a maximum rather than "not a valid quantity".
/// </summary>
public enum QuantityReading
{
    /// <summary>Well-formed and held.</summary>
    Valid,

    /// <summary>Not a quantity ("abc", "-1", "12Qi", "1e3m").</summary>
    Malformed,

    /// <summary>A quantity beyond what can be held ("1e16" cores in milli, "1e29" past a decimal).</summary>
    TooLarge,
}
