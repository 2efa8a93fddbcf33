namespace MasOrleans.Abstractions.Contracts;

/// <summary>
/// What one update of a workload changes, stored in one write (<see cref="Grains.IWorkloadGrain.Update"/>): its replicas
/// (null: unchanged) and, where the matching Sets flag is true, its annotations (null or empty: none), progress deadline
/// (null: the default) and Kubernetes rollout settings (null: the defaults). What it does not name is left as stored,
/// so a change made meanwhile by another caller is kept. <see cref="DefaultUnrunnable"/> is why the asking silo cannot run
/// the cluster's default (null: it can): the workload then refuses, in its own turn against the count it holds, a scale
/// up of a template naming no policy (<see cref="WorkloadView.UnrunnableRefusal"/>), so a scale down landing between a
/// caller's read and its write cannot turn an allowed change into one.
/// </summary>
/// <remarks>
/// Not [Immutable]: it carries its caller's annotations dictionary, and Orleans hands an [Immutable] argument to a grain
/// on the same silo uncopied, so the workload stored the caller's own dictionary and a later change to it changed the
/// workload. Orleans copies it at the call instead (one small copy a /k8s deployment update). The wire form is unchanged.
/// </remarks>
[GenerateSerializer, Alias("mas.workload-change")]
public sealed record WorkloadChange(
    [property: Id(0)] int? Replicas = null,
    [property: Id(1)] bool SetsAnnotations = false,
    [property: Id(2)] IReadOnlyDictionary<string, string>? Annotations = null,
    [property: Id(3)] bool SetsProgressDeadline = false,
    [property: Id(4)] int? ProgressDeadlineSeconds = null,
    [property: Id(5)] bool SetsRollout = false,
    [property: Id(6)] DeploymentRollout? Rollout = null,
    [property: Id(7)] string? DefaultUnrunnable = null)
{
    /// <summary>Whether it changes anything at all.</summary>
    public bool Any => Replicas is not null || SetsAnnotations || SetsProgressDeadline || SetsRollout;
}
