namespace MasOrleans.Scheduling.Framework;

/// <summary>kube-scheduler's FitError.Error (pkg/scheduler/framework/types.go), shared by the filters' and preemption's messages.</summary>
public static class FitError
{
    /// <summary>"0/N nodes are available: " and the "count reason" strings in byte order (sort.Strings), then a period.</summary>
    public static string Message(int nodeCount, IEnumerable<KeyValuePair<string, int>> reasonCounts) =>
        $"0/{nodeCount} nodes are available: {string.Join(", ", reasonCounts.Select(kv => $"{kv.Value} {kv.Key}").Order(StringComparer.Ordinal))}.";
}
