using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Workloads;

/// <summary>
/// A workload's persisted state: template, desired replicas, its pods in creation order, events, autoscaling
/// settings, the client's annotations and its manifest's container name (null when none, so absent from the stored JSON), its progress deadline (null: the default) and Progressing condition, its template's kept Kubernetes manifest (null: none), the label selector it was created with (null: its template's labels, as in records from before it was kept), its Kubernetes rollout settings (null: the defaults, as in records from before they were kept), when it was created (null in records from before it was kept), when its deletion was asked for (null: it is not being deleted), and the controller's memory (consecutive container failures, when it may create again, last scaling).
/// </summary>
[GenerateSerializer, Alias("mas.workload-state")]
public sealed record WorkloadState(
    [property: Id(0)] PodSpec? Template,
    [property: Id(1)] int Replicas,
    [property: Id(2)] IReadOnlyList<string> Pods,
    [property: Id(3)] IReadOnlyList<PodEvent>? Events = null,
    [property: Id(4)] AutoscaleSpec? Autoscale = null,
    [property: Id(5)] int ConsecutiveFailures = 0,
    [property: Id(6)] DateTimeOffset? NextCreateAt = null,
    [property: Id(7)] DateTimeOffset? LastScaleAt = null,
    [property: Id(8)] DateTimeOffset? HealthySince = null,
    [property: Id(9)] IReadOnlyDictionary<string, string>? Annotations = null,
    [property: Id(10)] string? ContainerName = null,
    [property: Id(11)] int? ProgressDeadlineSeconds = null,
    [property: Id(12)] WorkloadProgress? Progress = null,
    [property: Id(13)] DateTimeOffset? CreatedAt = null,
    [property: Id(14)] DateTimeOffset? DeletionRequestedAt = null,
    [property: Id(15)] string? Manifest = null,
    [property: Id(16)] IReadOnlyDictionary<string, string>? Selector = null,
    [property: Id(17)] DeploymentRollout? Rollout = null)
{
    public WorkloadState() : this(null, 0, []) { }
}
