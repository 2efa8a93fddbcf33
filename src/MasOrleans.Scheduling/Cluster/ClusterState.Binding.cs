using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Cluster;

/// <summary>The pods bound to each node: binding, a node's confirmation of a binding, relabelling and unbinding.</summary>
public sealed partial class ClusterState
{
    public bool TryGetPodLocation(string podName, out int node, out GpuAllocation gpus)
    {
        if (_podLocations.TryGetValue(podName, out var loc))
        {
            (node, gpus) = loc;
            return true;
        }
        node = -1;
        gpus = GpuAllocation.None;
        return false;
    }

    /// <summary>Binds the pod, failing (false) without any change if it no longer fits.</summary>
    public bool TryBind(int node, PodSpec pod, GpuAllocation gpus, DateTimeOffset? boundAt = null) => TryBind(node, new BoundPod(pod, gpus, boundAt));

    /// <summary>As above, keeping <paramref name="bound"/> itself among the node's pods: a caller that keeps it too (a node grain, a view's records) holds one copy.</summary>
    public bool TryBind(int node, BoundPod bound)
    {
        var (pod, gpus) = (bound.Pod, bound.Gpus);
        if (_podLocations.ContainsKey(pod.Name)) throw new InvalidOperationException($"pod '{pod.Name}' is already bound");
        if (!FitsResources(node, pod)) return false;
        var gpu = pod.Gpu;
        if (gpu.Count != gpus.Devices.Count || (!gpu.IsNone && gpus.MilliPerDevice != gpu.MilliPerGpu)) return false;
        var start = GpuStart[node];
        foreach (var dev in gpus.Devices)
        {
            if (dev < 0 || dev >= GpuCount[node] || GpuFree[start + dev] < gpus.MilliPerDevice) return false;
        }
        if (gpus.Devices.Distinct().Count() != gpus.Devices.Count) return false;
        Place(node, bound);
        if (pod.Image is { } image) AddImage(node, image);
        // A pod bound is nominated nowhere (kube's assume drops it from the nominator: DeleteNominatedPodIfExists).
        if (_nominations.Count > 0) ForgetNomination(pod.Name);
        return true;
    }

    /// <summary>Counts the pod on the node, on the devices given, without asking whether it fits (<see cref="TryBind(int, BoundPod)"/> asks first).</summary>
    private void Place(int node, BoundPod bound)
    {
        var (pod, gpus) = (bound.Pod, bound.Gpus);
        var start = GpuStart[node];
        foreach (var dev in gpus.Devices) GpuFree[start + dev] -= gpus.MilliPerDevice;
        for (var d = 0; d < ResourceNames.Count; d++) Allocated[d][node] += pod.Requests[d];
        NonZeroCpu[node] += NonZeroCpuOf(pod);
        NonZeroMemory[node] += NonZeroMemoryOf(pod);
        Pods[node].Add(bound);
        if (HasPodAffinity(pod))
        {
            PodsWithAffinity[node]++;
            PodsWithAffinityTotal++;
        }
        _podLocations[pod.Name] = (node, gpus);
        CountBound(pod);
        RefreshFitRow(node);
        Touch(node);
    }

    /// <summary>
    /// A bound pod's binding as its node confirms it, in one look-up (a view confirms every bind): the bind time the node
    /// stamped, when it did (a pod assumed before its node confirmed it has none; preemption reads it as the pod's start
    /// time), and the labels it carries now (<see cref="Relabel"/>). Its place in the bind order stays. True when its
    /// labels changed; false too when it is not bound.
    /// </summary>
    /// <remarks>
    /// Keeps the node's record itself when it binds what was assumed (the common case: the view's record of the node holds
    /// it too, one copy a pod), else the assumed one with the node's bind time and labels.
    /// </remarks>
    public bool Confirm(BoundPod confirmed)
    {
        var (pod, boundAt, labels) = (confirmed.Pod, confirmed.BoundAt, confirmed.Pod.Labels);
        if (!_podLocations.TryGetValue(pod.Name, out var loc)) return false;
        var pods = Pods[loc.Node];
        var i = IndexOf(pods, pod.Name);
        var assumed = pods[i];
        if (ReferenceEquals(assumed, confirmed)) return false;
        if ((boundAt is not null || assumed.BoundAt is null) && CountsAlike(assumed, confirmed))
        {
            pods[i] = confirmed;
            if (PodSpec.SameLabels(assumed.Pod.Labels, labels)) return false;
            Touch(loc.Node);
            return true;
        }
        if (boundAt is not null && assumed.BoundAt != boundAt) pods[i] = assumed with { BoundAt = boundAt };
        return Relabel(loc.Node, pods, i, labels);
    }

    /// <summary>
    /// Whether one record of a pod's binding can stand for the other in what binding counted (<see cref="Place"/>) and
    /// unbinding takes back (<see cref="Unbind"/>): its requests, namespace, inter-pod affinity and GPU devices.
    /// </summary>
    private static bool CountsAlike(BoundPod a, BoundPod b)
    {
        if (a.Pod.Requests != b.Pod.Requests || a.Pod.Namespace != b.Pod.Namespace || HasPodAffinity(a.Pod) != HasPodAffinity(b.Pod)) return false;
        var (x, y) = (a.Gpus, b.Gpus);
        if (x.MilliPerDevice != y.MilliPerDevice || x.Devices.Count != y.Devices.Count) return false;
        // A loop, not SequenceEqual: an IReadOnlyList's enumerator is boxed, and a view confirms every bind.
        for (var d = 0; d < x.Devices.Count; d++)
            if (x.Devices[d] != y.Devices[d]) return false;
        return true;
    }

    /// <summary>
    /// Gives a bound pod new labels (a Kubernetes pod's labels change after creation) in its place in the bind order: other
    /// pods' inter-pod affinity, topology spread and per-node caps count it by them from now on. False when it is not
    /// bound, or already has these labels.
    /// </summary>
    public bool Relabel(string podName, IReadOnlyDictionary<string, string> labels) =>
        _podLocations.TryGetValue(podName, out var loc) && Relabel(loc.Node, Pods[loc.Node], IndexOf(Pods[loc.Node], podName), labels);

    private bool Relabel(int node, List<BoundPod> pods, int i, IReadOnlyDictionary<string, string> labels)
    {
        if (PodSpec.SameLabels(pods[i].Pod.Labels, labels)) return false;
        pods[i] = pods[i] with { Pod = pods[i].Pod with { Labels = labels } };
        Touch(node);
        return true;
    }

    // A loop, not FindIndex with a lambda: both callers run once per pod on the live path, and the lambda captures the name.
    private static int IndexOf(List<BoundPod> pods, string podName)
    {
        for (var i = 0; i < pods.Count; i++)
            if (pods[i].Pod.Name == podName) return i;
        return -1;
    }

    /// <summary>Releases a bound pod's resources; false when the pod is not bound here.</summary>
    public bool Unbind(string podName)
    {
        if (!_podLocations.Remove(podName, out var loc)) return false;
        var (node, gpus) = loc;
        var pods = Pods[node];
        var i = IndexOf(pods, podName);
        var pod = pods[i].Pod;
        pods.RemoveAt(i);
        var start = GpuStart[node];
        foreach (var dev in gpus.Devices) GpuFree[start + dev] += gpus.MilliPerDevice;
        for (var d = 0; d < ResourceNames.Count; d++) Allocated[d][node] -= pod.Requests[d];
        NonZeroCpu[node] -= NonZeroCpuOf(pod);
        NonZeroMemory[node] -= NonZeroMemoryOf(pod);
        if (HasPodAffinity(pod))
        {
            PodsWithAffinity[node]--;
            PodsWithAffinityTotal--;
        }
        CountUnbound(pod);
        RefreshFitRow(node);
        Touch(node);
        return true;
    }
}
