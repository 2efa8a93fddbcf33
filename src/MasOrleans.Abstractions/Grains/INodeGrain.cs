using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Model;
using Orleans.Concurrency;

namespace MasOrleans.Abstractions.Grains;

/// <summary>The resource agent: one per node, keyed by node name, the authority on its capacity.</summary>
public interface INodeGrain : IGrainWithStringKey
{
    Task<Outcome> Register(NodeSpec spec);

    /// <summary>Read-only and interleaved, so the index can rebuild itself while this node awaits the index.</summary>
    [AlwaysInterleave]
    Task<NodeView?> GetView();

    Task<Outcome> Patch(NodePatch patch);

    Task<Outcome> Delete();

    /// <summary>Atomically takes the pod's resources and devices, or fails without change if they are no longer free.</summary>
    Task<Reservation> Reserve(PodSpec pod, GpuAllocation gpus);

    Task<bool> Release(string podName);
}
