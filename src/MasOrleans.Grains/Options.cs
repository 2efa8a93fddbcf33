// Within MasOrleans.Grains, MasOrleans.Scheduling would resolve to MasOrleans.Grains.Scheduling.
using QueueOrders = MasOrleans.Scheduling.Queue.QueueOrders;

namespace MasOrleans.Grains;

/// <summary>
/// The one rule every time setting is checked by at start-up (each options type's Problems()): a period, timeout or
/// delay is at most what a timer takes, and a period at least 1 ms, the least a timer takes. Beyond a timer's limit the
/// timer threw where it was made, at a grain's activation, so the silo started and then failed every request that needed
/// the grain (1e300 overflowed TimeSpan itself); a zero period spun its grain; a period under 1 ms (0.0001 s) threw from
/// PeriodicTimer once the silo ran, which stopped it with exit code 0; a negative delay threw where it was awaited or, at
/// -1, waited forever.
/// </summary>
public static class TimeSettings
{
    /// <summary>The longest wait .NET's and Orleans' timers accept (uint.MaxValue - 1 ms, about 49.7 days).</summary>
    public const double MaxMilliseconds = uint.MaxValue - 1.0;

    /// <summary>
    /// A period or timeout: at least 1 ms (PeriodicTimer refuses less, and a grain timer would spin), or at least
    /// <paramref name="least"/> where something else bounds it (in the setting's unit, its reason named). Below that bound
    /// the one message is the bound, not also the general period's ("at least 0.001" for 0).
    /// </summary>
    public static string? Period(string key, double value, bool milliseconds = false, (double Value, string Reason)? least = null) =>
        least is { } bound && value < bound.Value
            ? $"{key} must be at least {Invariant(bound.Value)} ({bound.Reason}), not {Invariant(value)}"
            : Check(key, value, milliseconds, zeroAllowed: false);

    /// <summary>A delay or a span compared with the clock: 0 (none) or more.</summary>
    public static string? Delay(string key, double value, bool milliseconds = false) => Check(key, value, milliseconds, zeroAllowed: true);

    private static string? Check(string key, double value, bool milliseconds, bool zeroAllowed)
    {
        var max = milliseconds ? MaxMilliseconds : Math.Floor(MaxMilliseconds / 1000);
        var min = zeroAllowed ? 0 : milliseconds ? 1 : 0.001;
        if (value >= min && value <= max) return null;
        var unit = milliseconds ? "milliseconds" : "seconds";
        var least = zeroAllowed ? "0 or more" : $"at least {Invariant(min)}";
        return $"{key} must be {least} and at most {max:0} {unit} (about 49 days), not {Invariant(value)}";
    }

    private static string Invariant(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Bound from the "Telemetry" configuration section.</summary>
public sealed class TelemetryOptions
{
    /// <summary>A node that has reported and then stays silent this long becomes NotReady.</summary>
    public double HeartbeatGraceSeconds { get; set; } = 30;

    /// <summary>Problems with these values, for start-up validation.</summary>
    public IEnumerable<string> Problems()
    {
        if (TimeSettings.Period("Telemetry__HeartbeatGraceSeconds", HeartbeatGraceSeconds) is { } grace) yield return grace;
    }
}

/// <summary>Bound from the "Scheduler" configuration section.</summary>
public sealed class SchedulerOptions
{
    /// <summary>The policy for pods that name none, until changed at runtime.</summary>
    public string DefaultPolicy { get; set; } = "kube";

    /// <summary>Seeds each worker's random source (tie-breaks, random policy).</summary>
    public int Seed { get; set; }

    /// <summary>
    /// The seed of queue shard <paramref name="shard"/>'s random source, which its cycles draw from (score ties,
    /// preemption's sampling offset); explain starts a source from the pod's shard's seed too.
    /// </summary>
    public int ShardSeed(int shard) => unchecked(Seed * 31 + shard);

    /// <summary>How many times a placement is retried on a refreshed view after a node refused the reservation.</summary>
    public int MaxAttempts { get; set; } = 16;

    /// <summary>Waiting pods are retried this long after capacity appears, so bursts of frees coalesce into one retry.</summary>
    public int RetryCoalesceMilliseconds { get; set; } = 200;

    /// <summary>Order of the active queue: "priority" (priority, then arrival), "sjf" (seed 003: shortest expected duration within a priority) or "drf" (within a priority, the namespace with the smallest dominant share first).</summary>
    public string QueueOrder { get; set; } = "priority";

    /// <summary>
    /// Under "sjf", a pod that has waited longer than this since its creation goes ahead of the shorter jobs of its
    /// priority, so a stream of short ones cannot starve a long one (seed 003's warning about SJF). 0: off, strict SJF.
    /// </summary>
    public double SjfMaxWaitSeconds { get; set; }

    /// <summary>First backoff of an unschedulable pod; it doubles per failed attempt up to <see cref="MaxBackoffMilliseconds"/>.</summary>
    public int InitialBackoffMilliseconds { get; set; } = 1000;

    public int MaxBackoffMilliseconds { get; set; } = 10_000;

    /// <summary>
    /// An unschedulable pod that no cluster event woke is tried again after this long (kube's
    /// podMaxInUnschedulablePodsDuration, 5 min); checked on each shard's in-flight sweep.
    /// </summary>
    public double MaxInUnschedulableSeconds { get; set; } = 300;

    /// <summary>How many scheduling cycles one queue shard runs at once (priority order holds across this window).</summary>
    public int MaxInFlight { get; set; } = 32;

    /// <summary>
    /// Shards of the scheduling queue (pods hash to one by name); the shards are spread over the silos, so this bounds
    /// how many silos place pods in parallel. Every silo of a cluster must use the same count.
    /// </summary>
    public int QueueShards { get; set; } = 8;

    /// <summary>
    /// Far more shards than silos any cluster runs: every shard is activated at start and reads the pod directory, and
    /// every pod listing asks every shard, so 100000 shards made the start and each listing that many grain calls.
    /// </summary>
    public const int MaxQueueShards = 256;

    /// <summary>A cycle that has not finished after this long is abandoned and its pod queued again.</summary>
    public int InFlightTimeoutSeconds { get; set; } = 30;

    /// <summary>Whether a pending pod may evict lower-priority pods (kube's DefaultPreemption).</summary>
    public bool Preemption { get; set; } = true;

    /// <summary>
    /// How long a node holds a preemptor's room (INodeGrain.Nominate) unless the pod reserves there or its nomination ends
    /// first: kube's nominator keeps a nomination until then, ours lapses so a hold whose drop was lost frees the room.
    /// </summary>
    public double NominationHoldSeconds { get; set; } = 30;

    /// <summary>Period of the reconciliation that frees reservations no pod holds (a crash between reserve and bind).</summary>
    public double ReconcileSeconds { get; set; } = 10;

    /// <summary>
    /// How soon a pod first asks its node again for its labels after the node may have been left with others (a lost
    /// answer is the likely cause, so soon); the wait then doubles up to 30 s (or stays at this when longer). At most 10 minutes.
    /// </summary>
    public double LabelRepairFirstDelayMilliseconds { get; set; } = 1000;

    /// <summary>
    /// Ten minutes: below Orleans' default 15 min collection age, which a wait between ticks must stay under (KeepAlive counts
    /// a tick as a call, not the wait). Above the 30 s the wait grows to, so a test can hold
    /// the repair off (the wait then stays at the first delay).
    /// </summary>
    public const double LongestLabelRepairFirstDelayMilliseconds = 600_000;

    /// <summary>
    /// Problems with these values, for start-up validation. Each is a count or a period the queue shards divide or wait
    /// by: none at all stops scheduling (no shard, no room in the window), and a zero backoff retries a failing pod at
    /// once, in the same turn, without end.
    /// </summary>
    public IEnumerable<string> Problems()
    {
        if (MaxAttempts < 1) yield return "Scheduler__MaxAttempts must be at least 1";
        if (MaxInFlight < 1) yield return "Scheduler__MaxInFlight must be at least 1";
        if (QueueShards < 1) yield return "Scheduler__QueueShards must be at least 1";
        if (QueueShards > MaxQueueShards) yield return $"Scheduler__QueueShards must be at most {MaxQueueShards}, not {QueueShards}";
        if (!QueueOrders.TryParse(QueueOrder, out _))
            yield return $"Scheduler__QueueOrder must be {(QueueOrders.Names)}, not '{QueueOrder}'";
        string?[] times =
        [
            TimeSettings.Delay("Scheduler__RetryCoalesceMilliseconds", RetryCoalesceMilliseconds, milliseconds: true),
            TimeSettings.Delay("Scheduler__SjfMaxWaitSeconds", SjfMaxWaitSeconds),
            TimeSettings.Period("Scheduler__InitialBackoffMilliseconds", InitialBackoffMilliseconds, milliseconds: true),
            TimeSettings.Period("Scheduler__InFlightTimeoutSeconds", InFlightTimeoutSeconds),
            TimeSettings.Period("Scheduler__ReconcileSeconds", ReconcileSeconds),
            TimeSettings.Period("Scheduler__MaxInUnschedulableSeconds", MaxInUnschedulableSeconds),
            TimeSettings.Period("Scheduler__NominationHoldSeconds", NominationHoldSeconds),
            TimeSettings.Period("Scheduler__LabelRepairFirstDelayMilliseconds", LabelRepairFirstDelayMilliseconds, milliseconds: true),
        ];
        foreach (var problem in times.OfType<string>()) yield return problem;
        if (LabelRepairFirstDelayMilliseconds > LongestLabelRepairFirstDelayMilliseconds)
            yield return $"Scheduler__LabelRepairFirstDelayMilliseconds must be at most {LongestLabelRepairFirstDelayMilliseconds}, not {LabelRepairFirstDelayMilliseconds}";
        if (MaxBackoffMilliseconds < InitialBackoffMilliseconds) yield return "Scheduler__MaxBackoffMilliseconds must be at least Scheduler__InitialBackoffMilliseconds";
    }
}

/// <summary>Bound from the "Workloads" configuration section.</summary>
public sealed class WorkloadOptions
{
    /// <summary>Period of each workload's control loop (level-triggered resync: replace, create, remove, autoscale).</summary>
    public double ResyncSeconds { get; set; } = 5;

    /// <summary>
    /// Period of each workload's reminder, which keeps its loop going after its silo died (and lists it). Orleans refuses
    /// a reminder period under a minute (ReminderOptions.MinimumReminderPeriod), so that is the least.
    /// </summary>
    public double ReminderSeconds { get; set; } = 60;

    /// <summary>The least <see cref="ReminderSeconds"/>: Orleans' default minimum reminder period.</summary>
    public const double LeastReminderSeconds = 60;

    /// <summary>First delay before replacing a pod whose container failed; doubles per consecutive failure.</summary>
    public double FailureBackoffSeconds { get; set; } = 1;

    public double MaxFailureBackoffSeconds { get; set; } = 60;

    /// <summary>Consecutive failures are forgotten once every replica has been Running this long (kubelet: 10 minutes).</summary>
    public double BackoffResetSeconds { get; set; } = 600;

    /// <summary>Problems with these values, for start-up validation.</summary>
    public IEnumerable<string> Problems()
    {
        string?[] times =
        [
            TimeSettings.Period("Workloads__ResyncSeconds", ResyncSeconds),
            TimeSettings.Period("Workloads__ReminderSeconds", ReminderSeconds, least: (LeastReminderSeconds, "Orleans' least reminder period")),
            TimeSettings.Delay("Workloads__FailureBackoffSeconds", FailureBackoffSeconds),
            TimeSettings.Delay("Workloads__MaxFailureBackoffSeconds", MaxFailureBackoffSeconds),
            TimeSettings.Delay("Workloads__BackoffResetSeconds", BackoffResetSeconds),
        ];
        foreach (var problem in times.OfType<string>()) yield return problem;
        if (MaxFailureBackoffSeconds < FailureBackoffSeconds) yield return "Workloads__MaxFailureBackoffSeconds must be at least Workloads__FailureBackoffSeconds";
    }
}

/// <summary>Bound from the "ContainerRuntime" configuration section (the simulated runtime).</summary>
public sealed class ContainerRuntimeOptions
{
    /// <summary>Simulated time to pull an image a node has not pulled before.</summary>
    public int PullMilliseconds { get; set; } = 50;

    /// <summary>Simulated time to start a container.</summary>
    public int StartMilliseconds { get; set; } = 5;

    /// <summary>A container whose image tag is "exit-N" (e.g. "app:exit-1") exits with code N after this long.</summary>
    public int FailAfterMilliseconds { get; set; } = 100;

    /// <summary>Problems with these values, for start-up validation.</summary>
    public IEnumerable<string> Problems()
    {
        string?[] times =
        [
            TimeSettings.Delay("ContainerRuntime__PullMilliseconds", PullMilliseconds, milliseconds: true),
            TimeSettings.Delay("ContainerRuntime__StartMilliseconds", StartMilliseconds, milliseconds: true),
            TimeSettings.Delay("ContainerRuntime__FailAfterMilliseconds", FailAfterMilliseconds, milliseconds: true),
        ];
        return times.OfType<string>();
    }
}
