using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>A task agent over many pods: keeps a number of replicas of a template.</summary>
public interface IWorkloadGrain : IGrainWithStringKey
{
    Task<Outcome> Create(PodSpec template, int replicas, AutoscaleSpec? autoscale = null);

    Task<WorkloadView?> Get();

    Task<Outcome> Scale(int replicas);

    Task<IReadOnlyList<PodEvent>> GetEvents();

    /// <summary>One of this workload's pods reached Failed or Succeeded (one-way: a pod never waits on its workload).</summary>
    [OneWay]
    Task PodFinished(string pod, PodPhase phase, string? reason);

    Task<Outcome> Delete();
}
