using System.Collections.Concurrent;

namespace MasOrleans.Scheduling.Framework;

/// <summary>kube-scheduler's FitError.Error (pkg/scheduler/framework/types.go), shared by the filters' and preemption's messages.</summary>
public static class FitError
{
    /// <summary>The reasons each <see cref="Joined"/> status message stands for.</summary>
    private static readonly ConcurrentDictionary<string, string[]> JoinedReasons = new(StringComparer.Ordinal);

    /// <summary>
    /// A node's status of several reasons as one filter reason: kube's Status.Message (strings.Join(reasons, ", ")), which
    /// <see cref="Message"/> counts reason by reason. Made once per set of reasons (a filter keeps what this returns).
    /// </summary>
    public static string Joined(IReadOnlyList<string> reasons)
    {
        var message = string.Join(", ", reasons);
        if (reasons.Count > 1) JoinedReasons.TryAdd(message, [.. reasons]);
        return message;
    }

    /// <summary>The reasons a filter's reason stands for: those it was <see cref="Joined"/> from, else itself.</summary>
    public static IReadOnlyList<string> Reasons(string reason) => JoinedReasons.TryGetValue(reason, out var reasons) ? reasons : [reason];

    /// <summary>
    /// "0/N nodes are available: " and the "count reason" strings in byte order (sort.Strings), then a period. Each of a
    /// node's reasons counts (FitError.Error: for _, reason := range status.Reasons() { reasons[reason]++ }).
    /// </summary>
    public static string Message(int nodeCount, IEnumerable<KeyValuePair<string, int>> reasonCounts)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (reason, count) in reasonCounts)
            foreach (var one in Reasons(reason)) counts[one] = counts.GetValueOrDefault(one) + count;
        return $"0/{nodeCount} nodes are available: {string.Join(", ", counts.Select(kv => $"{kv.Value} {kv.Key}").Order(StringComparer.Ordinal))}.";
    }
}
