using System.Collections.Concurrent;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Kubernetes;

/// <summary>
/// What the extender knows beyond a request: kube-scheduler sends nodes' allocatable but not what
/// is already placed on them, so the extender asks its cluster source for the pods bound there.
/// </summary>
public interface IExtenderClusterSource
{
    IReadOnlyList<BoundPod> BoundPods(string nodeName);

    /// <summary>A node by name, for nodeCacheCapable requests that carry only names.</summary>
    NodeSpec? FindNode(string nodeName);

    /// <summary>Called for every node object a request carries, so name-only requests can be served later.</summary>
    void ObserveNode(NodeSpec node);

    /// <summary>Records a pod the extender bound, so later decisions count its resources.</summary>
    void RecordBinding(PodSpec pod, string nodeName, GpuAllocation gpus);
}

/// <summary>A process-local source: nodes seen in requests and pods bound through /extender/bind.</summary>
public sealed class InMemoryExtenderClusterSource : IExtenderClusterSource
{
    private readonly ConcurrentDictionary<string, NodeSpec> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<BoundPod>> _pods = new(StringComparer.Ordinal);

    public IReadOnlyList<BoundPod> BoundPods(string nodeName)
    {
        if (!_pods.TryGetValue(nodeName, out var list)) return [];
        lock (list) return list.ToList();
    }

    public NodeSpec? FindNode(string nodeName) => _nodes.GetValueOrDefault(nodeName);

    public void ObserveNode(NodeSpec node) => _nodes[node.Name] = node;

    public void RecordBinding(PodSpec pod, string nodeName, GpuAllocation gpus)
    {
        var list = _pods.GetOrAdd(nodeName, _ => []);
        lock (list)
        {
            list.RemoveAll(p => p.Pod.Name == pod.Name);
            list.Add(new BoundPod(pod, gpus));
        }
    }
}
