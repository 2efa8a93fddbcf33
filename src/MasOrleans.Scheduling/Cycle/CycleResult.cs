namespace MasOrleans.Scheduling.Cycle;

public enum CycleVerdict
{
    /// <summary>Reserved on a node and recorded on the pod.</summary>
    Bound,
    /// <summary>No node fits (or the policy is unknown): the pod waits for a cluster change.</summary>
    Unschedulable,
    /// <summary>Every attempt's node refused (capacity moving under us): retry after backoff.</summary>
    Conflict,
    /// <summary>The pod no longer wants a node (deleted while being scheduled); its reservation was released.</summary>
    Gone,
}

/// <summary>What one scheduling cycle did; <see cref="Reason"/> is a short machine-readable cause for failures.</summary>
public sealed record CycleResult(CycleVerdict Verdict, string Policy, string? Node = null, string? Message = null, string? Reason = null)
{
    public const string UnknownPolicy = "unknown_policy";
    public const string NoFit = "unschedulable";
    public const string Conflicted = "conflict";
}

public sealed record CycleOptions
{
    /// <summary>Attempts on a fresh view after a node refused the reservation.</summary>
    public int MaxAttempts { get; init; } = 16;

    /// <summary>Whether a pod that fits nowhere may evict lower-priority pods (kube's DefaultPreemption).</summary>
    public bool Preemption { get; init; } = true;
}
