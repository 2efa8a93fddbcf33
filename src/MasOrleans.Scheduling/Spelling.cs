namespace MasOrleans.Scheduling;

/// <summary>"Did you mean": the known name a mistyped one was most likely meant to be (a policy, a silo setting).</summary>
public static class Spelling
{
    /// <summary>
    /// The known name fewest edits from <paramref name="given"/> (case ignored; the first in order on a tie), when it is
    /// close enough to be a typo: at most 2 edits, or a quarter of its length for longer names. Null otherwise.
    /// </summary>
    public static string? Nearest(string given, IEnumerable<string> known)
    {
        var nearest = known.Order(StringComparer.Ordinal)
            .Select(n => (Name: n, Distance: Distance(n.ToLowerInvariant(), given.ToLowerInvariant())))
            .OrderBy(n => n.Distance).FirstOrDefault();
        return nearest.Name is not null && nearest.Distance <= Math.Max(2, nearest.Name.Length / 4) ? nearest.Name : null;
    }

    /// <summary>Levenshtein distance: a typo is a few edits away from the name it meant.</summary>
    public static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }
}
