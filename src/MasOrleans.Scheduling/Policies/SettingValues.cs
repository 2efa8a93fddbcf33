using System.Globalization;

namespace MasOrleans.Scheduling.Policies;

/// <summary>
/// Reads a policy setting's value (`--set key=value`, or a silo's policy settings). A value the setting cannot take is
/// a <see cref="UserArgumentException"/> naming the setting and the value, never a bare FormatException ("The input
/// string 'abc' was not in a correct format."), an OverflowException, an infinity read from "1e400", or the default
/// quietly used for "telemetry=yes".
/// </summary>
public static class SettingValues
{
    /// <summary>An integer from <paramref name="minimum"/> to <paramref name="maximum"/>; <paramref name="fallback"/> when unset.</summary>
    public static int WholeNumber(IReadOnlyDictionary<string, string> settings, string key, int fallback, int minimum = int.MinValue, int maximum = int.MaxValue)
    {
        if (!settings.TryGetValue(key, out var text)) return fallback;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum) return value;
        var range = (minimum, maximum) switch
        {
            (int.MinValue, int.MaxValue) => "",
            (_, int.MaxValue) => $" of at least {minimum}",
            _ => $" from {minimum} to {maximum}",
        };
        throw new UserArgumentException($"setting {key} must be a whole number{range}, got '{text}'");
    }

    /// <summary>A finite number of at least <paramref name="minimum"/>; <paramref name="fallback"/> when unset.</summary>
    public static double Number(IReadOnlyDictionary<string, string> settings, string key, double fallback, double minimum = double.NegativeInfinity)
    {
        if (!settings.TryGetValue(key, out var text)) return fallback;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= minimum) return value;
        var range = double.IsNegativeInfinity(minimum) ? "" : string.Create(CultureInfo.InvariantCulture, $" of at least {minimum}");
        throw new UserArgumentException($"setting {key} must be a finite number{range}, got '{text}'");
    }

    /// <summary>true or false (any case); <paramref name="fallback"/> when unset.</summary>
    public static bool Flag(IReadOnlyDictionary<string, string> settings, string key, bool fallback = false)
    {
        if (!settings.TryGetValue(key, out var text)) return fallback;
        return bool.TryParse(text, out var value) ? value : throw new UserArgumentException($"setting {key} must be true or false, got '{text}'");
    }
}
