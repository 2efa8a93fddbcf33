namespace MasOrleans.Scheduling.Queue;

/// <summary>How the active queue orders pending pods (configuration <c>Scheduler__QueueOrder</c>).</summary>
public enum QueueOrder
{
    /// <summary>kube-scheduler's PrioritySort: higher priority first, then queued earlier (created, or failed its last attempt).</summary>
    Priority,

    /// <summary>
    /// Seed 003's shortest-job-first within a priority: among the highest-priority pods the one with the
    /// smallest expectedDurationSeconds goes first; pods without a duration come after those with one.
    /// </summary>
    Sjf,

    /// <summary>
    /// Dominant Resource Fairness (Ghodsi et al., NSDI 2011) among namespaces within a priority: among the highest-priority
    /// pods, the next is the earliest of the namespace whose bound pods hold the smallest dominant share of the cluster
    /// (<see cref="Cluster.ClusterState.DominantShare"/>); ties by namespace name.
    /// </summary>
    Drf,
}

public static class QueueOrders
{
    /// <summary>The values <c>Scheduler__QueueOrder</c> takes, as a message lists them.</summary>
    public const string Names = "'priority', 'sjf' or 'drf'";

    public static bool TryParse(string? value, out QueueOrder order)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "priority":
                order = QueueOrder.Priority;
                return true;
            case "sjf":
                order = QueueOrder.Sjf;
                return true;
            case "drf":
                order = QueueOrder.Drf;
                return true;
            default:
                order = QueueOrder.Priority;
                return false;
        }
    }
}

/// <summary>kube-scheduler's pod backoff: initial * 2^(attempts-1), capped (defaults 1 s and 10 s).</summary>
public sealed record BackoffPolicy(TimeSpan Initial, TimeSpan Max)
{
    public static readonly BackoffPolicy Default = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));

    public TimeSpan For(int attempts)
    {
        if (attempts <= 0) return TimeSpan.Zero;
        var delay = Initial;
        for (var i = 1; i < attempts && delay < Max; i++) delay += delay;
        return delay < Max ? delay : Max;
    }
}
