using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Configuration;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Extender;

/// <summary>
/// The extender's view of the cluster from the grains: the nodes MasOrleans knows with the pods bound on
/// them (so allocations made through the REST API and through /extender/bind both count), read from this
/// silo's cluster view before every request. Binding reserves on the node grain (the
/// capacity authority) and then records the pod under <see cref="KubernetesNames.Key"/>, so it shows up in
/// /api/v1/pods and /k8s as the one pod of its namespace and name.
/// </summary>
internal sealed partial class GrainExtenderClusterSource(IGrainFactory grains, SiloClusterView clusterView, PodCreator pods, NodeReserver reserver, IOptions<ExtenderOptions> options, ILogger<GrainExtenderClusterSource> logger) : IExtenderClusterSource
{
    private sealed record View(long Version, string? DefaultPolicy, IReadOnlyDictionary<string, NodeView> Nodes);

    private volatile View _view = new(-1, null, new Dictionary<string, NodeView>());

    /// <summary>Per node, the allocatable last refused (its bound pods did not fit), so the warning is not repeated every request.</summary>
    private readonly ConcurrentDictionary<string, (ResourceVector Capacity, int MaxPods)> _sizesRefused = new(StringComparer.Ordinal);

    /// <summary>Extender__DefaultPolicy when set, else the cluster's runtime default as this silo's view last read it.</summary>
    public string? DefaultPolicy => options.Value.DefaultPolicy ?? _view.DefaultPolicy;

    public async ValueTask RefreshAsync(IReadOnlyList<NodeSpec> requestNodes, CancellationToken cancellationToken)
    {
        if (options.Value.RegisterNodes)
        {
            foreach (var node in requestNodes)
            {
                if (!_view.Nodes.TryGetValue(node.Name, out var known))
                {
                    var outcome = await NodeRegistration.Register(grains, clusterView, node);
                    if (outcome.IsOk) LogNodeRegistered(logger, node.Name);
                }
                // Kubernetes is the truth for its nodes (kubectl label, taint, cordon; the kubelet's allocatable): kept as
                // registered, a name-only request and MasOrleans' own cycle placed pods by what the node no longer has. A node
                // missing from a request is not gone (kube-scheduler sends only the nodes its filters passed), so none is ever
                // removed here. One MasOrleans is deleting stays as the deletion left it, cordoned, until it is gone.
                else if (!known.Draining) await Update(known.Spec, node);
            }
        }
        await clusterView.Ready;
        _view = new View(0, clusterView.DefaultPolicy, clusterView.Nodes().ToDictionary(n => n.Name, StringComparer.Ordinal));
    }

    private async Task Update(NodeSpec known, NodeSpec sent)
    {
        var node = grains.Reference<INodeGrain>(sent.Name);
        var changes = NodePatch.Changes(known, sent.Labels, sent.Taints, sent.Unschedulable);
        var resize = (sent.Capacity != known.Capacity || sent.MaxPods != known.MaxPods) && !RefusedAgain(known, sent);
        if (changes.IsEmpty && !resize) return;
        var updated = false;
        if (!changes.IsEmpty && (await node.Patch(changes)).IsOk)
        {
            updated = true;
            LogNodeRelabelled(logger, sent.Name);
        }
        if (resize)
        {
            var outcome = await node.Patch(new NodePatch(Capacity: sent.Capacity, MaxPods: sent.MaxPods));
            var size = (sent.Capacity, sent.MaxPods);
            if (outcome.IsOk)
            {
                updated = true;
                _sizesRefused.TryRemove(sent.Name, out _);
                LogNodeResized(logger, sent.Name);
            }
            // Refused while its pods do not fit (each request asks again, so it is taken once they have left): said once per size.
            else if (outcome.Code == OutcomeCode.Conflict && (!_sizesRefused.TryGetValue(sent.Name, out var refused) || refused != size))
            {
                _sizesRefused[sent.Name] = size;
                LogAllocatableRefused(logger, sent.Name, outcome.Message);
            }
        }
        // Only after a change: a re-read wakes every shard's waiting pods (CapacityAppeared), and a refused size is sent
        // again with every request, so re-reading after it retried every unschedulable pod at each filter and prioritize.
        if (updated) await clusterView.Resync(sent.Name);
    }

    /// <summary>
    /// The size the node refused at the last request, sent again, while the pods this silo's view holds there still do not
    /// fit it: the node would refuse it again, and asking cost a grain call per such node at every request. Once the view
    /// has the pods gone (or the size sent changes) the node is asked again.
    /// </summary>
    private bool RefusedAgain(NodeSpec known, NodeSpec sent) =>
        _sizesRefused.TryGetValue(sent.Name, out var refused) && refused == (sent.Capacity, sent.MaxPods)
        && clusterView.Node(sent.Name) is { } live && !ClusterState.Holds(known with { Capacity = sent.Capacity, MaxPods = sent.MaxPods }, live.Pods);

    public IReadOnlyList<BoundPod> BoundPods(string nodeName) => _view.Nodes.TryGetValue(nodeName, out var node) ? node.Pods : [];

    public IEnumerable<string> KnownNodeNames() => _view.Nodes.Keys;

    public NodeSpec? FindNode(string nodeName) => _view.Nodes.TryGetValue(nodeName, out var node) ? node.Spec : null;

    /// <summary>Nodes are registered in <see cref="RefreshAsync"/>, where awaiting is possible.</summary>
    public void ObserveNode(NodeSpec node)
    {
    }

    /// <remarks>Through the reserver the scheduling cycles use: a node grain on a silo that stops refuses, and the reserver
    /// sends the reservation again to the node's next activation once the stop is announced.</remarks>
    public async Task<string?> ReserveAsync(PodSpec pod, string nodeName, GpuAllocation gpus, CancellationToken cancellationToken)
    {
        var reservation = await reserver.Reserve(nodeName, pod, gpus);
        return reservation.Reserved ? null : reservation.Reason ?? "reservation refused";
    }

    /// <summary>A node grain whose silo stops refuses it as that silo would: asked again, it reaches the node's next activation.</summary>
    public async Task ReleaseAsync(PodSpec pod, string nodeName, CancellationToken cancellationToken) =>
        await reserver.Release(nodeName, pod.Name, pod.CreatedAt);

    public async Task<bool> PodExistsAsync(string key, CancellationToken cancellationToken) =>
        await grains.Reference<IPodGrain>(key).Get() is not null;

    /// <summary>
    /// The pod grain then asks a scheduler worker as usual, which finds the pod already reserved on the node
    /// and only confirms it (Scheduled, then Running) instead of placing it again.
    /// </summary>
    public async Task CommitAsync(PodSpec pod, string nodeName, GpuAllocation gpus, CancellationToken cancellationToken)
    {
        var outcome = (await pods.Create(pod, workload: null)).Outcome;
        if (!outcome.IsOk) LogBoundPodKnown(logger, pod.Name, nodeName, outcome.Message);
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "Registered Kubernetes node {Node} seen by the extender")]
    private static partial void LogNodeRegistered(ILogger logger, string node);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Information, Message = "Kubernetes node {Node} seen by the extender has changed labels, taints or cordon; updated")]
    private static partial void LogNodeRelabelled(ILogger logger, string node);

    [LoggerMessage(EventId = 2303, Level = LogLevel.Information, Message = "Kubernetes node {Node} seen by the extender has a new allocatable; updated")]
    private static partial void LogNodeResized(ILogger logger, string node);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Kubernetes node {Node} seen by the extender reports an allocatable its bound pods do not fit in: {Error}")]
    private static partial void LogAllocatableRefused(ILogger logger, string node, string? error);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Warning, Message = "Pod {Pod} bound to {Node} through the extender was already known: {Error}")]
    private static partial void LogBoundPodKnown(ILogger logger, string pod, string node, string? error);
}
