using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Abstractions.Contracts;

/// <summary>A consistent picture of every node at one index version, plus the cluster's default policy.</summary>
[GenerateSerializer, Immutable, Alias("mas.cluster-snapshot")]
public sealed record ClusterSnapshot(
    [property: Id(0)] long Version,
    [property: Id(1)] string DefaultPolicy,
    [property: Id(2)] IReadOnlyList<NodeView> Nodes)
{
    /// <summary>Rebuilds the scheduling core's structure-of-arrays view.</summary>
    public ClusterState ToClusterState()
    {
        var state = new ClusterState();
        foreach (var view in Nodes)
        {
            var n = state.AddNode(view.Spec, view.Ready);
            foreach (var image in view.Images ?? []) state.AddImage(n, image);
            foreach (var bound in view.Pods)
            {
                if (!state.TryBind(n, bound.Pod, bound.Gpus))
                    throw new InvalidOperationException($"node '{view.Name}' reports pod '{bound.Pod.Name}' that does not fit");
            }
            foreach (var (name, value) in view.Utilization)
            {
                if (ResourceNames.TryParse(name, out var kind)) state.SetUtilization(n, kind, (float)value);
            }
        }
        return state;
    }

    /// <summary>
    /// Brings a ClusterState built from <paramref name="previous"/> up to this snapshot by touching only the nodes
    /// whose view changed (the index hands out a new NodeView per change), instead of re-binding every pod of the
    /// cluster on every reservation. False when the node set changed: the caller rebuilds from scratch.
    /// </summary>
    public bool TryApply(ClusterState state, ClusterSnapshot previous)
    {
        if (previous.Nodes.Count != Nodes.Count) return false;
        var changed = new List<(int Node, NodeView Old, NodeView New)>();
        for (var i = 0; i < Nodes.Count; i++)
        {
            var (old, now) = (previous.Nodes[i], Nodes[i]);
            if (ReferenceEquals(old, now)) continue;
            var n = state.IndexOf(now.Name);
            if (old.Name != now.Name || n < 0 || old.Spec.Capacity != now.Spec.Capacity) return false;
            changed.Add((n, old, now));
        }
        // Unbind everywhere before binding anywhere, so a pod that moved between two changed nodes is never bound twice.
        foreach (var (_, old, now) in changed)
        {
            var kept = now.Pods.Select(p => p.Pod.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var bound in old.Pods)
            {
                if (!kept.Contains(bound.Pod.Name)) state.Unbind(bound.Pod.Name);
            }
        }
        foreach (var (n, old, now) in changed)
        {
            if (!ReferenceEquals(old.Spec, now.Spec)) state.UpdateNode(now.Spec);
            if (old.Ready != now.Ready) state.SetReady(n, now.Ready);
            var had = old.Pods.Select(p => p.Pod.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var bound in now.Pods)
            {
                if (!had.Contains(bound.Pod.Name) && !state.TryBind(n, bound.Pod, bound.Gpus)) return false;
            }
            foreach (var kind in ResourceNames.All) state.SetUtilization(n, kind, float.NaN);
            foreach (var (name, value) in now.Utilization)
            {
                if (ResourceNames.TryParse(name, out var kind)) state.SetUtilization(n, kind, (float)value);
            }
            foreach (var image in now.Images ?? []) state.AddImage(n, image);
        }
        return true;
    }
}

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
    [property: Id(6)] AutoscaleSpec? Autoscale = null);

/// <summary>Seed 001's autoscaler settings for one workload; utilization is in percent of requested CPU capacity.</summary>
[GenerateSerializer, Immutable, Alias("mas.autoscale-spec")]
public sealed record AutoscaleSpec(
    [property: Id(0)] int MinReplicas,
    [property: Id(1)] int MaxReplicas,
    [property: Id(2)] double TargetCpuUtilization = 70,
    [property: Id(3)] double ScaleUpCooldownSeconds = 60,
    [property: Id(4)] double ScaleDownCooldownSeconds = 300);
