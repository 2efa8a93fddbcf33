using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>A task agent: one pod's spec, phase, placement and events, keyed by pod name.</summary>
public interface IPodGrain : IGrainWithStringKey
{
    /// <summary>Stores the pod as Pending and asks a scheduler for a node without waiting for it.</summary>
    Task<Outcome> Create(PodSpec spec, string? workload);

    Task<PodView?> Get();

    Task<Outcome> Delete();

    /// <summary>Called by the scheduler after the node reserved; false when the pod no longer wants a node (deleted).</summary>
    Task<bool> MarkScheduled(string nodeName, GpuAllocation gpus, IReadOnlyDictionary<string, long> scores, string policy);

    Task MarkUnschedulable(string message);

    /// <summary>Asks for scheduling again if the pod still waits; sent by the index when capacity appears.</summary>
    [OneWay]
    Task Retry();

    /// <summary>One-way: a container reporting its exit must never wait on a pod that is waiting on it.</summary>
    [OneWay]
    Task ContainerChanged(ContainerView container);
}

/// <summary>One container's lifecycle, keyed "{pod}/{container}".</summary>
public interface IContainerGrain : IGrainWithStringKey
{
    Task<ContainerView> Start(string node, string? image, double? runSeconds);

    Task Stop();

    Task<ContainerView?> Get();
}

/// <summary>A task agent over many pods: keeps a number of replicas of a template.</summary>
public interface IWorkloadGrain : IGrainWithStringKey
{
    Task<Outcome> Create(PodSpec template, int replicas);

    Task<WorkloadView?> Get();

    Task<Outcome> Scale(int replicas);

    Task<Outcome> Delete();
}
