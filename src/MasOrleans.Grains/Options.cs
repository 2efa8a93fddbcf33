namespace MasOrleans.Grains;

/// <summary>Bound from the "Telemetry" configuration section.</summary>
public sealed class TelemetryOptions
{
    /// <summary>A node that has reported and then stays silent this long becomes NotReady.</summary>
    public double HeartbeatGraceSeconds { get; set; } = 30;
}

/// <summary>Bound from the "Scheduler" configuration section.</summary>
public sealed class SchedulerOptions
{
    /// <summary>The policy for pods that name none, until changed at runtime.</summary>
    public string DefaultPolicy { get; set; } = "kube";

    /// <summary>Seeds each worker's random source (tie-breaks, random policy).</summary>
    public int Seed { get; set; }

    /// <summary>How many times a placement is retried on a refreshed view after a node refused the reservation.</summary>
    public int MaxAttempts { get; set; } = 16;

    /// <summary>Waiting pods are retried this long after capacity appears, so bursts of frees coalesce into one retry.</summary>
    public int RetryCoalesceMilliseconds { get; set; } = 200;
}

/// <summary>Bound from the "ContainerRuntime" configuration section (the simulated runtime).</summary>
public sealed class ContainerRuntimeOptions
{
    /// <summary>Simulated time to pull an image a node has not pulled before.</summary>
    public int PullMilliseconds { get; set; } = 50;

    /// <summary>Simulated time to start a container.</summary>
    public int StartMilliseconds { get; set; } = 5;
}
