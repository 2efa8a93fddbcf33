using System.Collections.Concurrent;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Kubernetes;

/// <summary>
/// What the extender knows beyond a request: kube-scheduler sends nodes' allocatable but not what
/// is already placed on them, so the extender asks its cluster source for the pods bound there.
/// Reads are synchronous (they run inside the policy's plugins); <see cref="RefreshAsync"/> runs first.
/// </summary>
public interface IExtenderClusterSource
{
    /// <summary>Brings the source up to date before a request; <paramref name="requestNodes"/> are the nodes the request carries.</summary>
    ValueTask RefreshAsync(IReadOnlyList<NodeSpec> requestNodes, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The policy for pods without the annotation when the source has one (the silo's configured or runtime default); null to use the extender's own.</summary>
    string? DefaultPolicy => null;

    IReadOnlyList<BoundPod> BoundPods(string nodeName);

    /// <summary>Every node the source knows, request or not: the pods bound on them give the policies their typical pods.</summary>
    IEnumerable<string> KnownNodeNames();

    /// <summary>A node by name, for nodeCacheCapable requests that carry only names.</summary>
    NodeSpec? FindNode(string nodeName);

    /// <summary>Called for every node object a request carries, so name-only requests can be served later.</summary>
    void ObserveNode(NodeSpec node);

    /// <summary>Takes the pod's resources on the node before the Binding is posted; an error message when they are no longer free.</summary>
    Task<string?> ReserveAsync(PodSpec pod, string nodeName, GpuAllocation gpus, CancellationToken cancellationToken);

    /// <summary>Gives a reservation back when Kubernetes refused the Binding.</summary>
    Task ReleaseAsync(PodSpec pod, string nodeName, CancellationToken cancellationToken);

    /// <summary>Whether the service already has a pod under this key (made through REST, kubectl or an earlier bind).</summary>
    Task<bool> PodExistsAsync(string key, CancellationToken cancellationToken) => Task.FromResult(false);

    /// <summary>Called once Kubernetes accepted the Binding.</summary>
    Task CommitAsync(PodSpec pod, string nodeName, GpuAllocation gpus, CancellationToken cancellationToken) => Task.CompletedTask;
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

    public IEnumerable<string> KnownNodeNames() => _nodes.Keys.Union(_pods.Keys, StringComparer.Ordinal);

    public void ObserveNode(NodeSpec node) => _nodes[node.Name] = node;

    /// <summary>Records a pod as bound, so later decisions count its resources.</summary>
    public void RecordBinding(PodSpec pod, string nodeName, GpuAllocation gpus)
    {
        var list = _pods.GetOrAdd(nodeName, _ => []);
        lock (list)
        {
            list.RemoveAll(p => p.Pod.Name == pod.Name);
            list.Add(new BoundPod(pod, gpus));
        }
    }

    public Task<string?> ReserveAsync(PodSpec pod, string nodeName, GpuAllocation gpus, CancellationToken cancellationToken)
    {
        RecordBinding(pod, nodeName, gpus);
        return Task.FromResult<string?>(null);
    }

    public Task ReleaseAsync(PodSpec pod, string nodeName, CancellationToken cancellationToken)
    {
        if (_pods.TryGetValue(nodeName, out var list))
        {
            lock (list) list.RemoveAll(p => p.Pod.Name == pod.Name);
        }
        return Task.CompletedTask;
    }
}
