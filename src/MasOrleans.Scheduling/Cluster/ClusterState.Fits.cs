using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>
/// What fits on a node as it is now: NodeResourcesFit's rules (pod count, free resources, GPU devices), the reference
/// the fit rows (<see cref="FitRows"/>) summarize, and what room a nominated preemptor keeps.
/// </summary>
public sealed partial class ClusterState
{
    /// <summary>Whether the pods all fit on a node as <paramref name="spec"/> describes it, GPU devices included (a node resized under its pods).</summary>
    public static bool Holds(NodeSpec spec, IEnumerable<BoundPod> pods)
    {
        var fits = true;
        new ClusterState().AddNode(spec, pods, misfit: _ => fits = false);
        return fits;
    }

    /// <summary>True when the node's pod count, free resources and devices can take the pod (ignores labels and taints).</summary>
    public bool FitsResources(int node, PodSpec pod) => HasPodRoom(node) && FitsResources(node, pod.Requests, pod.Gpu);

    /// <summary>NodeResourcesFit's pod-count check (fit.go fitsRequest): one more pod must stay within the node's `pods`.</summary>
    public bool HasPodRoom(int node) => Pods[node].Count < _specs[node].MaxPods;

    public bool FitsResources(int node, ResourceVector requests, GpuRequest gpu)
    {
        for (var d = 0; d < ResourceNames.Count; d++)
        {
            if (d == (int)ResourceKind.Gpu) continue;
            if (requests[d] > Capacity[d][node] - Allocated[d][node]) return false;
        }
        return FitsGpus(node, gpu);
    }

    /// <summary>
    /// True when every pod in <paramref name="held"/> (preemptors' nominated room) would still fit on the node once
    /// <paramref name="pod"/> took <paramref name="gpus"/> there: <see cref="FitsResources(int, PodSpec)"/>'s rule,
    /// per GPU device included, applied to what the pod leaves, the held pods placed in turn (each share on the device
    /// with the least room that takes it, whole GPUs on wholly free devices).
    /// </summary>
    public bool FitsAlongside(int node, IReadOnlyList<PodSpec> held, PodSpec pod, GpuAllocation gpus)
    {
        if (Pods[node].Count + 1 + held.Count > _specs[node].MaxPods) return false;
        for (var d = 0; d < ResourceNames.Count; d++)
        {
            if (d == (int)ResourceKind.Gpu) continue;
            var requested = pod.Requests[d];
            foreach (var h in held) requested += h.Requests[d];
            if (requested > Capacity[d][node] - Allocated[d][node]) return false;
        }
        var free = GpuFreeOf(node).ToArray();
        foreach (var device in gpus.Devices) free[device] -= gpus.MilliPerDevice;
        foreach (var h in held)
        {
            for (var taken = 0; taken < h.Gpu.Count; taken++)
            {
                var best = -1;
                for (var device = 0; device < free.Length; device++)
                {
                    if (free[device] >= h.Gpu.MilliPerGpu && (best < 0 || free[device] < free[best])) best = device;
                }
                if (best < 0) return false;
                free[best] -= h.Gpu.MilliPerGpu;
            }
        }
        return true;
    }

    /// <summary>A share needs ONE device with that much free; whole GPUs need that many fully free devices.</summary>
    public bool FitsGpus(int node, GpuRequest gpu)
    {
        if (gpu.IsNone) return true;
        var free = GpuFreeOf(node);
        var found = 0;
        foreach (var f in free)
        {
            if (f >= gpu.MilliPerGpu && ++found >= gpu.Count) return true;
        }
        return false;
    }
}
