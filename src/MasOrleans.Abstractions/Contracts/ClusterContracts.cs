using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Abstractions.Contracts;

[GenerateSerializer, Immutable, Alias("mas.cluster-summary")]
public sealed record ClusterSummary(
    [property: Id(0)] int Nodes,
    [property: Id(1)] int ReadyNodes,
    [property: Id(2)] IReadOnlyDictionary<string, string> Capacity,
    [property: Id(3)] IReadOnlyDictionary<string, string> Allocated,
    [property: Id(4)] IReadOnlyDictionary<string, double> AllocationRatio,
    [property: Id(5)] IReadOnlyDictionary<PodPhase, int> PodsByPhase,
    [property: Id(6)] int Pending,
    [property: Id(7)] string DefaultPolicy);

[GenerateSerializer, Immutable, Alias("mas.workload-view")]
public sealed record WorkloadView(
    [property: Id(0)] string Name,
    [property: Id(1)] int Replicas,
    [property: Id(2)] int ReadyReplicas,
    [property: Id(3)] PodSpec Template,
    [property: Id(4)] IReadOnlyList<PodEntry> Pods,
    [property: Id(5)] int Unschedulable = 0,
    [property: Id(6)] AutoscaleSpec? Autoscale = null,
    [property: Id(7)] IReadOnlyDictionary<string, string>? Annotations = null,
    [property: Id(8)] string? ContainerName = null,
    [property: Id(9)] int? ProgressDeadlineSeconds = null,
    [property: Id(10)] WorkloadProgress? Progress = null,
    [property: Id(11)] DateTimeOffset? CreatedAt = null,
    [property: Id(12)] DateTimeOffset? DeletionRequestedAt = null,
    [property: Id(13)] string? Manifest = null,
    [property: Id(14)] IReadOnlyDictionary<string, string>? Selector = null,
    [property: Id(15)] DeploymentRollout? Rollout = null)
{
    /// <summary>
    /// Why the workload <paramref name="name"/>, of <paramref name="current"/> replicas, refuses to be scaled to
    /// <paramref name="replicas"/> (null: it takes them). The count it has is no change, so never refused: the API
    /// server takes an update that changes nothing, even of an object being deleted.
    /// </summary>
    public static string? ScaleRefusal(string name, DateTimeOffset? deletionRequestedAt, AutoscaleSpec? autoscale, int current, int replicas) =>
        replicas == current ? null
        // Its deletion deletes every replica whatever the count: a scale answered as done would be dropped.
        : deletionRequestedAt is not null ? BeingDeleted(name) : autoscale?.RefuseReplicas(replicas);

    /// <inheritdoc cref="ScaleRefusal"/>
    public string? RefuseScale(int replicas) => ScaleRefusal(Name, DeletionRequestedAt, Autoscale, Replicas, replicas);

    /// <summary>
    /// Why scaling from <paramref name="current"/> to <paramref name="replicas"/> replicas of <paramref name="template"/>
    /// is refused on a silo that cannot run the cluster's default (<paramref name="defaultUnrunnable"/>, null: it can): new
    /// replicas naming no policy would wait for ever. Scaling down or to the same count adds no waiting pod.
    /// </summary>
    public static string? UnrunnableRefusal(PodSpec template, int current, int replicas, string? defaultUnrunnable) =>
        defaultUnrunnable is not null && template.Policy is null && replicas > current ? defaultUnrunnable : null;

    /// <inheritdoc cref="UnrunnableRefusal"/>
    public string? RefuseUnrunnable(int replicas, string? defaultUnrunnable) => UnrunnableRefusal(Template, Replicas, replicas, defaultUnrunnable);

    public static string BeingDeleted(string name) => $"workload '{name}' is being deleted";
}

/// <summary>
/// A workload's Progressing condition as Kubernetes' deployment controller keeps it (pkg/controller/deployment/progress.go,
/// syncRolloutStatus): its reason, when progress was last seen (LastUpdate) and the status last changed, and the replica
/// counts last seen, against which the next look measures progress.
/// </summary>
[GenerateSerializer, Immutable, Alias("mas.workload-progress")]
public sealed record WorkloadProgress(
    [property: Id(0)] string Reason,
    [property: Id(1)] DateTimeOffset LastUpdate,
    [property: Id(2)] DateTimeOffset LastTransition,
    [property: Id(3)] int UpdatedReplicas,
    [property: Id(4)] int ReadyReplicas)
{
    /// <summary>apps/v1's default spec.progressDeadlineSeconds.</summary>
    public const int DefaultDeadlineSeconds = 600;

    public const string Updated = "ReplicaSetUpdated";
    public const string Complete = "NewReplicaSetAvailable";
    public const string TimedOut = "ProgressDeadlineExceeded";

    /// <summary>The condition's status: True but once the deadline passed without progress.</summary>
    public bool Progressing => Reason != TimedOut;
}

/// <summary>Seed 001's autoscaler settings for one workload; utilization is in percent of requested CPU capacity.</summary>
[GenerateSerializer, Immutable, Alias("mas.autoscale-spec")]
public sealed record AutoscaleSpec(
    [property: Id(0)] int MinReplicas,
    [property: Id(1)] int MaxReplicas,
    [property: Id(2)] double TargetCpuUtilization = 70,
    [property: Id(3)] double ScaleUpCooldownSeconds = 60,
    [property: Id(4)] double ScaleDownCooldownSeconds = 300)
{
    /// <summary>Why <paramref name="replicas"/> cannot be asked of a workload autoscaled in this range (null: it can).</summary>
    public string? RefuseReplicas(int replicas) => replicas < MinReplicas || replicas > MaxReplicas
        ? $"replicas {replicas} is outside autoscale's range: minReplicas {MinReplicas}, maxReplicas {MaxReplicas}"
        : null;
}
