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
