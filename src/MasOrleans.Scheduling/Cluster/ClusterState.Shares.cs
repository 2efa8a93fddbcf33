using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>What each namespace's bound pods hold of the cluster: the shares the DRF queue order compares.</summary>
public sealed partial class ClusterState
{
    private readonly Dictionary<string, ResourceVector> _requestedByNamespace = new(StringComparer.Ordinal);

    /// <summary>
    /// The capacity of the nodes the allocator can give, Ready and not cordoned, added up: DRF's shares are of the resources
    /// the allocator divides among the users (Ghodsi et al., Section 4), and
    /// kube-scheduler gives a NotReady node nothing (our NodeReady filter; kube's node-lifecycle not-ready taint) and a
    /// cordoned one only to pods tolerating its unschedulable taint (NodeUnschedulable), daemons rather than tenants' work.
    /// Pods still bound on such a node count in their namespace's requests: they hold it.
    /// </summary>
    public ResourceVector SchedulableCapacity { get; private set; }

    private bool Schedulable(int node) => Ready[node] && !Unschedulable[node];

    // Around every change of a node's readiness or cordon (nodes are never taken out of a state; it is rebuilt instead).
    private void RecountCapacity(int node, bool wasSchedulable)
    {
        var schedulable = Schedulable(node);
        if (schedulable == wasSchedulable) return;
        if (schedulable) SchedulableCapacity += _specs[node].Capacity;
        else SchedulableCapacity -= _specs[node].Capacity;
    }

    /// <summary>The requests of the namespace's bound pods (assumed ones included), added up.</summary>
    public ResourceVector RequestedBy(string @namespace) => _requestedByNamespace.GetValueOrDefault(@namespace);

    /// <summary>
    /// The namespace's dominant share (Ghodsi et al., "Dominant Resource Fairness", NSDI 2011, Section 4): the largest,
    /// over the resource dimensions the cluster has, of what its bound pods request of it divided by the cluster's
    /// <see cref="SchedulableCapacity"/> of it. 0 for a namespace with nothing bound. O(dimensions): kept per namespace as
    /// pods bind and leave.
    /// </summary>
    public double DominantShare(string @namespace) => DominantShare(@namespace, []);

    /// <summary>
    /// <see cref="DominantShare(string)"/> with <paramref name="inFlight"/> (pods of the namespace handed out for an attempt)
    /// counted too, those this state does not hold yet: a pod counts from its pop, and once assumed or bound only once.
    /// O(dimensions + in-flight pods).
    /// </summary>
    public double DominantShare(string @namespace, IEnumerable<PodSpec> inFlight)
    {
        var requested = RequestedBy(@namespace);
        foreach (var pod in inFlight)
            if (!_podLocations.ContainsKey(pod.Name)) requested += pod.Requests;
        var share = 0.0;
        for (var d = 0; d < ResourceNames.Count; d++)
            if (SchedulableCapacity[d] > 0) share = Math.Max(share, (double)requested[d] / SchedulableCapacity[d]);
        return share;
    }

    // One lookup per bind and unbind: these run for every placement and every preemption dry run, whatever the order.
    private void CountBound(PodSpec pod)
    {
        ref var requested = ref CollectionsMarshal.GetValueRefOrAddDefault(_requestedByNamespace, pod.Namespace, out _);
        requested += pod.Requests;
    }

    private void CountUnbound(PodSpec pod)
    {
        ref var requested = ref CollectionsMarshal.GetValueRefOrNullRef(_requestedByNamespace, pod.Namespace);
        if (Unsafe.IsNullRef(ref requested)) return;
        requested -= pod.Requests;
        if (requested == ResourceVector.Zero) _requestedByNamespace.Remove(pod.Namespace);
    }
}
