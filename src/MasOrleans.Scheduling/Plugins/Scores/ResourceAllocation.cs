using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Plugins.Scores;

public sealed record ResourceWeight(ResourceKind Resource, long Weight);

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

    public static ResourceKind[] Kinds(IReadOnlyList<ResourceWeight> resources) => resources.Select(r => r.Resource).ToArray();
    public static long[] Weights(IReadOnlyList<ResourceWeight> resources) => resources.Select(r => r.Weight).ToArray();
}
