using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>A task agent over many pods: keeps a number of replicas of a template.</summary>
public interface IWorkloadGrain : IGrainWithStringKey
{
    /// <param name="annotations">The client's annotations, kept with the workload.</param>
    /// <param name="containerName">The manifest's one container's name, kept for the template and its pods (null: named after the pod).</param>
    /// <param name="progressDeadlineSeconds">How long without progress before its Progressing condition is False (null: 600 s).</param>
    /// <param name="manifest">The template's Kubernetes manifest as /k8s keeps it, kept for the template and its pods (null: none).</param>
    /// <param name="selector">The label selector it was created with, which may select fewer labels than the template has (null: the template's labels).</param>
    /// <param name="rollout">Its Kubernetes rollout settings as /k8s keeps them, kept and not acted on (null: the defaults).</param>
    Task<Outcome> Create(PodSpec template, int replicas, AutoscaleSpec? autoscale = null, IReadOnlyDictionary<string, string>? annotations = null,
        string? containerName = null, int? progressDeadlineSeconds = null, string? manifest = null, IReadOnlyDictionary<string, string>? selector = null,
        DeploymentRollout? rollout = null);

    Task<WorkloadView?> Get();

    /// <summary>
    /// <see cref="Update"/> of the replicas alone. Conflict for a count outside an autoscaled workload's range, or any
    /// other than its own (none) while it is being deleted (<see cref="WorkloadView.ScaleRefusal"/>); Unrunnable for a scale
    /// up of a template naming no policy when <paramref name="defaultUnrunnable"/> says why the asking silo cannot run the
    /// cluster's default (<see cref="WorkloadChange.DefaultUnrunnable"/>).
    /// </summary>
    Task<Outcome> Scale(int replicas, string? defaultUnrunnable = null);

    /// <summary>
    /// Applies <paramref name="change"/> (replicas, annotations, progress deadline, rollout settings) in one write: a /k8s
    /// patch that changes several is done whole or not at all. NotFound if it does not exist; Conflict if a change of
    /// replicas is refused, Unrunnable if a scale up is (<see cref="WorkloadChange.DefaultUnrunnable"/>; nothing is changed then).
    /// </summary>
    Task<Outcome> Update(WorkloadChange change);

    Task<IReadOnlyList<PodEvent>> GetEvents();

    /// <summary>One of this workload's pods reached Failed or Succeeded, or was deleted (one-way: a pod never waits on its workload).</summary>
    [OneWay]
    Task PodFinished(string pod, PodPhase phase, string? reason);

    Task<Outcome> Delete();

    /// <summary>Nothing but its activation, which starts its control loop: after a silo died, the survivors call it on every workload.</summary>
    Task Ping();
}
