using MasOrleans.Scheduling.Model;

namespace MasOrleans.Abstractions.Contracts;

public enum PodPhase
{
    Pending = 0,
    Scheduled = 1,
    Running = 2,
    Succeeded = 3,
    Failed = 4,
    Unschedulable = 5,
}

public static class PodPhases
{
    /// <summary>Phases in which a pod holds resources on a node.</summary>
    public static bool HoldsNode(this PodPhase phase) => phase is PodPhase.Scheduled or PodPhase.Running;

    /// <summary>Phases in which a pod still waits for a node.</summary>
    public static bool IsWaiting(this PodPhase phase) => phase is PodPhase.Pending or PodPhase.Unschedulable;
}

/// <summary>A Kubernetes-style event: repeated identical events are folded into one with a count.</summary>
/// <param name="FirstSeen">When the first of the events counted here was seen (kube's Event.firstTimestamp); null when that
/// is <paramref name="LastSeen"/>: a single event, or one stored before first sightings were kept.</param>
[GenerateSerializer, Immutable, Alias("mas.pod-event")]
public sealed record PodEvent(
    [property: Id(0)] DateTimeOffset LastSeen,
    [property: Id(1)] string Type,
    [property: Id(2)] string Reason,
    [property: Id(3)] string Message,
    [property: Id(4)] int Count = 1,
    [property: Id(5)] DateTimeOffset? FirstSeen = null);

[GenerateSerializer, Immutable, Alias("mas.pod-view")]
public sealed record PodView(
    [property: Id(0)] PodSpec Spec,
    [property: Id(1)] PodPhase Phase,
    [property: Id(2)] string? NodeName,
    [property: Id(3)] GpuAllocation Gpus,
    [property: Id(4)] IReadOnlyList<PodEvent> Events,
    [property: Id(5)] IReadOnlyDictionary<string, long> Scores,
    [property: Id(6)] string? ScheduledBy,
    [property: Id(7)] string? Workload,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] string? Reason = null,
    [property: Id(10)] IReadOnlyDictionary<string, string>? Annotations = null,
    [property: Id(11)] string? ContainerName = null,
    [property: Id(12)] string? NominatedNodeName = null,
    [property: Id(13)] string? Manifest = null);

/// <summary>
/// What a create answers: its outcome and, when the pod was created, the pod as stored, so the caller (the REST and
/// Kubernetes surfaces answer with it) needs no second call, which crosses silos for most pods.
/// </summary>
/// <param name="SiloStopping">Not made: the silo asked to make it is stopping (<c>PodHostService</c>); nothing was touched,
/// so the creation may be sent again elsewhere.</param>
[GenerateSerializer, Immutable, Alias("mas.pod-creation")]
public sealed record PodCreation([property: Id(0)] Outcome Outcome, [property: Id(1)] PodView? Pod = null, [property: Id(2)] bool SiloStopping = false);

/// <summary>A pod to create on its shard's silo (<see cref="Grains.IPodHostService.CreatePods"/>).</summary>
[GenerateSerializer, Immutable, Alias("mas.pod-creation-request")]
public sealed record PodCreationRequest([property: Id(0)] PodSpec Spec, [property: Id(1)] string? Workload,
    [property: Id(2)] IReadOnlyDictionary<string, string>? Annotations = null, [property: Id(3)] string? ContainerName = null,
    [property: Id(4)] string? Manifest = null);

/// <summary>
/// How one call of a batch sent to another silo ended (pod creations, node reservations): its result, or the exception
/// its own call threw, for the caller to throw.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.batch-answer`1")]
public sealed record BatchAnswer<T>([property: Id(0)] T? Result, [property: Id(1)] Exception? Error = null) where T : class;

/// <summary>Why a pod failed; Evicted reasons are not the pod's fault, so workloads replace them without backoff.</summary>
public static class PodReasons
{
    public const string NodeLost = "NodeLost";
    public const string Preempted = "Preempted";
    public const string Drained = "Drained";
    /// <summary>A NoExecute taint the pod does not tolerate was put on its node (kube's taint eviction controller's event reason).</summary>
    public const string TaintEviction = "TaintManagerEviction";
    public const string Error = "Error";
    /// <summary>The pod was deleted: what it tells its workload (<c>IWorkloadGrain.PodFinished</c>), which replaces it if it still counts it.</summary>
    public const string Deleted = "Deleted";
    /// <summary>
    /// The pod ran past its spec.activeDeadlineSeconds: the kubelet's reason and message (activeDeadlineHandler,
    /// pkg/kubelet/active_deadline.go). The pod's fault: its workload replaces it as any failed pod.
    /// </summary>
    public const string DeadlineExceeded = "DeadlineExceeded";
    public const string DeadlineExceededMessage = "Pod was active on the node longer than the specified deadline";

    public static bool IsEviction(string? reason) => reason is NodeLost or Preempted or Drained or TaintEviction;

    /// <summary>
    /// The type of the event a pod's end records: Normal for a success, and for a pod past its active deadline, which the
    /// kubelet's activeDeadlineHandler records as Normal (ShouldEvict, pkg/kubelet/active_deadline.go); Warning otherwise.
    /// </summary>
    public static string EventType(PodPhase phase, string reason) =>
        phase == PodPhase.Succeeded || reason == DeadlineExceeded ? "Normal" : "Warning";
}

/// <summary>
/// A pod's status.startTime: its bind (the pod's Scheduled event), which stands for the kubelet's first sight of the pod.
/// The kubelet's status manager sets startTime then, before the image pull (updateStatusInternal,
/// pkg/kubelet/status/status_manager.go), and its activeDeadlineHandler counts spec.activeDeadlineSeconds from it
/// (pkg/kubelet/active_deadline.go). The one rule the served status and the pod's deadline follow. Null while the pod
/// has no node; a bound pod whose Scheduled event has left its bounded list counts from its creation.
/// </summary>
public static class PodStartTime
{
    public const string ScheduledReason = "Scheduled";

    public static DateTimeOffset? Of(string? nodeName, IReadOnlyList<PodEvent> events, DateTimeOffset createdAt) =>
        nodeName is null ? null : events.LastOrDefault(e => e.Reason == ScheduledReason)?.LastSeen ?? createdAt;

    public static DateTimeOffset? Of(PodView view) => Of(view.NodeName, view.Events, view.CreatedAt);
}

/// <summary>
/// A pod as the cluster index lists it. <see cref="Version"/> orders a pod's reports (they travel one-way and may
/// arrive out of order): a report older than the one held is ignored. It is bookkeeping, not part of the listing.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.pod-entry")]
public sealed record PodEntry([property: Id(0)] string Name, [property: Id(1)] PodPhase Phase, [property: Id(2)] string? NodeName, [property: Id(3), System.Text.Json.Serialization.JsonIgnore] long Version = 0)
{
    /// <summary>Whether <paramref name="entry"/> should replace what <paramref name="table"/> holds for its pod.</summary>
    public static bool IsNewer(IReadOnlyDictionary<string, PodEntry> table, PodEntry entry) =>
        !table.TryGetValue(entry.Name, out var held) || held.Version <= entry.Version;
}

public enum ContainerPhase
{
    Created = 0,
    Running = 1,
    Exited = 2,
}

[GenerateSerializer, Immutable, Alias("mas.container-view")]
public sealed record ContainerView(
    [property: Id(0)] string Id,
    [property: Id(1)] ContainerPhase Phase,
    [property: Id(2)] string Node,
    [property: Id(3)] string? Image,
    [property: Id(4)] bool ImageWasCached,
    [property: Id(5)] DateTimeOffset? StartedAt,
    [property: Id(6)] DateTimeOffset? FinishedAt,
    [property: Id(7)] int? ExitCode,
    [property: Id(8)] DateTimeOffset? RunUntil = null,
    [property: Id(9)] int PlannedExitCode = 0,
    [property: Id(10)] DateTimeOffset? Deadline = null);
