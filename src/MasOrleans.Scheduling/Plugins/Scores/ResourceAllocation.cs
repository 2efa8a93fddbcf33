using System.Runtime.CompilerServices;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Scores;

public sealed record ResourceWeight(ResourceKind Resource, long Weight);

/// <summary>
/// One scored resource as flat columns for batch scoring: with the pod on it, the node would have requested
/// Used[node] + PodRequest of Capacity[node] (a node with zero capacity skips the resource, as in Gather).
/// </summary>
internal readonly record struct ResourceColumn(long[] Capacity, long[] Used, long PodRequest, long Weight);

/// <summary>Room for every resource kind's column on the stack; profiles listing more fall back to an array.</summary>
[InlineArray(ResourceNames.Count)]
internal struct ResourceColumnBuffer
{
    private ResourceColumn _element0;
}

/// <summary>
/// kube-scheduler's resourceAllocationScorer input: per resource, what the node would have requested with
/// the pod on it and its allocatable. Resources with zero allocatable are skipped; an extended (scalar)
/// resource the pod does not request (GPU, disk I/O, network) is skipped too, as in v1.35.
/// </summary>
internal static class ResourceAllocation
{
    /// <param name="nonZeroDefaults">NodeResourcesFit scores cpu and memory with the non-zero defaults; BalancedAllocation does not.</param>
    public static void Gather(SchedulingContext context, int node, ReadOnlySpan<ResourceKind> resources, bool nonZeroDefaults,
        Span<long> requested, Span<long> allocatable)
    {
        var cluster = context.Cluster;
        // Read the pod's request vector once: it is a 48-byte struct.
        var requests = context.Requests;
        for (var i = 0; i < resources.Length; i++)
        {
            var kind = resources[i];
            var d = (int)kind;
            var podRequest = requests[d];
            requested[i] = 0;
            allocatable[i] = 0;
            var alloc = cluster.Capacity[d][node];
            if (alloc == 0) continue;
            long req;
            switch (kind)
            {
                case ResourceKind.Cpu:
                    req = nonZeroDefaults ? cluster.NonZeroCpu[node] + (podRequest == 0 ? ClusterState.DefaultMilliCpuRequest : podRequest) : cluster.Allocated[d][node] + podRequest;
                    break;
                case ResourceKind.Memory:
                    req = nonZeroDefaults ? cluster.NonZeroMemory[node] + (podRequest == 0 ? ClusterState.DefaultMemoryRequest : podRequest) : cluster.Allocated[d][node] + podRequest;
                    break;
                case ResourceKind.EphemeralStorage:
                    // A native resource: scored even when the pod does not request it.
                    req = cluster.Allocated[d][node] + podRequest;
                    break;
                default:
                    if (podRequest == 0) continue;
                    req = cluster.Allocated[d][node] + podRequest;
                    break;
            }
            allocatable[i] = alloc;
            requested[i] = req;
        }
    }

    /// <summary>
    /// The batch form of <see cref="Gather"/>: one column per resource that can score on some node, in the order
    /// of <paramref name="resources"/> (order matters for floating-point sums). Returns how many were written.
    /// </summary>
    public static int Columns(SchedulingContext context, ReadOnlySpan<ResourceKind> resources, ReadOnlySpan<long> weights,
        bool nonZeroDefaults, Span<ResourceColumn> columns)
    {
        var cluster = context.Cluster;
        var count = 0;
        for (var i = 0; i < resources.Length; i++)
        {
            var kind = resources[i];
            var d = (int)kind;
            var podRequest = context.RequestOf(d);
            var used = cluster.Allocated[d];
            switch (kind)
            {
                case ResourceKind.Cpu when nonZeroDefaults:
                    used = cluster.NonZeroCpu;
                    if (podRequest == 0) podRequest = ClusterState.DefaultMilliCpuRequest;
                    break;
                case ResourceKind.Memory when nonZeroDefaults:
                    used = cluster.NonZeroMemory;
                    if (podRequest == 0) podRequest = ClusterState.DefaultMemoryRequest;
                    break;
                case ResourceKind.Cpu or ResourceKind.Memory or ResourceKind.EphemeralStorage:
                    break;
                default:
                    // An extended resource the pod does not request scores on no node.
                    if (podRequest == 0) continue;
                    break;
            }
            columns[count++] = new ResourceColumn(cluster.Capacity[d], used, podRequest, weights.IsEmpty ? 1 : weights[i]);
        }
        return count;
    }

    public static ResourceKind[] Kinds(IReadOnlyList<ResourceWeight> resources) => resources.Select(r => r.Resource).ToArray();
    public static long[] Weights(IReadOnlyList<ResourceWeight> resources) => resources.Select(r => r.Weight).ToArray();
}
