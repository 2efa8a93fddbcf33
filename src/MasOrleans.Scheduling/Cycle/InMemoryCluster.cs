using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Cycle;

/// <summary>
/// Every port of the cycle over one in-process <see cref="ClusterState"/>, which is both the snapshot and the nodes'
/// authority: replay and the trainers place pods through the same cycle as the silo without a service around it.
/// Not thread-safe, like the state it wraps.
/// </summary>
public sealed class InMemoryCluster(ClusterState cluster, string defaultPolicy)
    : IClusterSnapshotSource, INodeReservations, IPodEvictions, IBindingRecorder
{
    public ClusterState Cluster { get; } = cluster;

    public ValueTask<T> WithCluster<T>(Func<CycleSnapshot, T> step) => ValueTask.FromResult(step(new CycleSnapshot(Cluster, defaultPolicy)));

    /// <summary>The snapshot is the authority here, so the cycle's assumption already holds the room.</summary>
    public ValueTask<ReserveResult> Reserve(string node, PodSpec pod, GpuAllocation gpus)
    {
        var index = Cluster.IndexOf(node);
        if (index < 0) return ValueTask.FromResult(ReserveResult.Refused("node no longer exists"));
        if (Cluster.TryGetPodLocation(pod.Name, out var held, out var heldGpus))
            return ValueTask.FromResult(held == index ? ReserveResult.Held(heldGpus) : ReserveResult.Refused($"pod is bound to {Cluster.NameOf(held)}"));
        return ValueTask.FromResult(Cluster.TryBind(index, pod, gpus) ? ReserveResult.Held(gpus) : ReserveResult.Refused("resources or devices no longer free"));
    }

    public ValueTask Release(string node, PodSpec pod)
    {
        Cluster.Unbind(pod.Name);
        return ValueTask.CompletedTask;
    }

    /// <summary>The pods' nominations are stored here, each as a version of their own (as a pod grain stores its own).</summary>
    private long _nominationVersion;

    /// <summary>
    /// The preemptor's nomination, which the cycle made in this cluster, is stored here at once, as a pod grain's write: a
    /// later preemptor's cycle clears it by its version (the cycle sends no clear for one not stored). The cluster holds
    /// every nomination, so it answers none besides.
    /// </summary>
    public ValueTask<IReadOnlyList<(PodSpec Pod, long Version)>> Nominate(string node, PodSpec preemptor, string failure)
    {
        Cluster.NominationStored(preemptor.Name, Cluster.IndexOf(node), ++_nominationVersion);
        return ValueTask.FromResult<IReadOnlyList<(PodSpec, long)>>([]);
    }

    public ValueTask Evict(string node, PodSpec victim, string message)
    {
        Cluster.Unbind(victim.Name);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> Bound(PodSpec pod, PodBinding binding) => ValueTask.FromResult(true);

    public ValueTask Unschedulable(PodSpec pod, string message, bool clearNomination = false) => ValueTask.CompletedTask;

    /// <summary>The pod's status here is the cluster's nomination: that version's is cleared at once, as a pod's stored clear.</summary>
    public ValueTask NominationCleared(PodSpec pod, string node, long version)
    {
        Cluster.ForgetNomination(pod.Name, Cluster.IndexOf(node), version);
        return ValueTask.CompletedTask;
    }

    /// <summary>A cycle over this cluster: replay's settings (one attempt, no preemption) unless given.</summary>
    public SchedulingCycle CreateCycle(PolicySchedulers schedulers, Random random, CycleOptions? options = null) =>
        new(schedulers, this, this, this, this, options ?? new CycleOptions { MaxAttempts = 1, Preemption = false }, random);
}
