using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// This silo's picture of the cluster (kube-scheduler's scheduler cache): one <see cref="ClusterState"/> shared by
/// every scheduling cycle on the silo, kept current by the node grains' changes (<see cref="NodeChange"/>), which
/// arrive one-way and are applied in each node's order. A new node activation, or a gap in a node's changes that no late
/// change fills within the grace, makes the view re-read that node from its grain; the node grain stays the authority,
/// the view is its cache.
/// </summary>
/// <remarks>
/// Per node the view keeps the node's own word (<see cref="NodeRecord"/>) apart from the ClusterState, which also
/// holds the cycles' assumed placements: when a real placement no longer fits beside an assumed one, the node is
/// rebuilt from the record and the assumptions that still fit are put back.
/// </remarks>
public sealed partial class SiloClusterView(IGrainFactory grains, PolicyCatalog catalog, ILogger<SiloClusterView> logger, TimeSpan? gapGrace = null,
    IClusterMembershipService? membership = null, ILocalSiloDetails? silo = null)
    : IClusterObserver, IClusterSnapshotSource
{
    /// <summary>
    /// How long a gap in a node's changes may wait for the missing change before the view re-reads the node. Changes
    /// from another silo arrive one-way and not always in order; re-reading at once cost a second silo a quarter of its
    /// CPU (the whole node, every bound pod, deserialized; measured with perf), nearly always for a change already
    /// on its way.
    /// </summary>
    public static readonly TimeSpan DefaultGapGrace = TimeSpan.FromSeconds(1);

    private readonly TimeSpan _gapGrace = gapGrace ?? DefaultGapGrace;

    private sealed class NodeRecord(NodeInfo info, Guid incarnation, long seq)
    {
        public NodeInfo Info { get; set; } = info;
        public Guid Incarnation { get; set; } = incarnation;
        public long Seq { get; set; } = seq;
        private readonly Dictionary<string, BoundPod> _pods = new(StringComparer.Ordinal);

        /// <summary>Bound pods in the order the node took them.</summary>
        public IReadOnlyDictionary<string, BoundPod> Pods => _pods;

        /// <summary>
        /// The bound pods' requests added up (what <see cref="NodeView.Allocated"/> computes from a view's pods), kept with
        /// every change so a summary costs a node, not its pods.
        /// </summary>
        public ResourceVector Allocated { get; private set; } = ResourceVector.Zero;

        public void Bind(BoundPod bound)
        {
            if (_pods.TryGetValue(bound.Pod.Name, out var old)) Allocated -= old.Pod.Requests;
            _pods[bound.Pod.Name] = bound;
            Allocated += bound.Pod.Requests;
        }

        public void Release(string pod)
        {
            if (_pods.Remove(pod, out var old)) Allocated -= old.Pod.Requests;
        }

        public SortedDictionary<long, NodeChange> Pending { get; } = [];
        /// <summary>A gap is being waited on (one wait per node at a time).</summary>
        public bool AwaitingGap { get; set; }
    }

    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, NodeRecord> _nodes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _resyncing = new(StringComparer.Ordinal);
    // Asked for while a read was under way: a new activation's changes that arrived meanwhile were dropped (they
    // cannot be ordered against the old one), and the read may predate them, so read once more after it.
    private readonly HashSet<string> _resyncAgain = new(StringComparer.Ordinal);
    private ClusterState _state = new();
    private bool _rebuild;
    private string _defaultPolicy = "kube";
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raised (outside the lock) when a node can take something it could not before.</summary>
    public event Action? CapacityAppeared;

    /// <summary>
    /// Raised (outside the lock) when a pod was bound and no capacity appeared with it: a pod whose required pod affinity
    /// or topology spread counts bound pods may fit now (kube's AssignedPodAdded).
    /// </summary>
    public event Action? PodAssigned;

    public Task Ready => _ready.Task;

    /// <summary>How long a reader waits for a view that has not started (its first read of every node).</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <see cref="Ready"/>, or a <see cref="TimeoutException"/> after <see cref="ReadyTimeout"/> (an API answers 503 with
    /// Retry-After): a view that cannot start (its silo cannot reach the index or the nodes) must not hold a request.
    /// </summary>
    public Task WhenReady() => _ready.Task.WaitAsync(ReadyTimeout);

    /// <summary>
    /// The policies' schedulers every shard on this silo decides with: one set per view, so typical pods are derived
    /// once per silo and a profile's state (kube's next start node, FGD's cache) spans the silo's decisions. Used only
    /// inside <see cref="WithCluster{T}"/>, which serializes it with the cluster.
    /// </summary>
    public PolicySchedulers Schedulers { get; } = new(catalog);

    public string DefaultPolicy { get { lock (_lock) return _defaultPolicy; } }

    public async ValueTask<T> WithCluster<T>(Func<CycleSnapshot, T> step)
    {
        if (!_ready.Task.IsCompleted) await _ready.Task;
        lock (_lock)
        {
            if (_rebuild) RebuildAll();
            return step(new CycleSnapshot(_state, _defaultPolicy));
        }
    }

    /// <summary>
    /// The namespace's dominant share of the whole cluster (<see cref="ClusterState.DominantShare(string, IEnumerable{PodSpec})"/>),
    /// which the DRF queue order reads at every pop: every shard on every silo reads the same nodes, so they agree. It
    /// counts this silo's assumed placements, and the shard's <paramref name="inFlight"/> pods not assumed yet. Null until
    /// the view has started: before its first read of the nodes every share would be 0.
    /// </summary>
    public double? DominantShare(string @namespace, IReadOnlyList<PodSpec> inFlight)
    {
        if (!_ready.Task.IsCompleted) return null;
        lock (_lock)
        {
            if (_rebuild) RebuildAll();
            return _state.DominantShare(@namespace, inFlight);
        }
    }

    /// <summary>Starts the view from the index's membership: every node is read from its grain.</summary>
    public async Task Start(ClusterMembership membership)
    {
        lock (_lock) _defaultPolicy = membership.DefaultPolicy;
        await Task.WhenAll(membership.Nodes.Select(Resync));
        _ready.TrySetResult();
    }

    /// <summary>A renewed membership: nodes the view does not know are read, nodes the index no longer lists are dropped.</summary>
    public async Task Reconcile(ClusterMembership membership, bool rereadAll = false)
    {
        var listed = membership.Nodes.ToHashSet(StringComparer.Ordinal);
        List<string> unknown;
        bool policyChanged;
        lock (_lock)
        {
            // A PUT /scheduler/policy reaches a view here alone when the index's one-way DefaultPolicyChanged missed it
            // (an index failover forgets its observers): it must wake the waiting pods as that call does.
            policyChanged = !string.Equals(_defaultPolicy, membership.DefaultPolicy, StringComparison.Ordinal);
            _defaultPolicy = membership.DefaultPolicy;
            foreach (var gone in _nodes.Keys.Where(n => !listed.Contains(n)).ToList()) RemoveNode(gone);
            unknown = rereadAll ? [.. listed] : listed.Where(n => !_nodes.ContainsKey(n)).ToList();
        }
        if (policyChanged) CapacityAppeared?.Invoke();
        await Task.WhenAll(unknown.Select(Resync));
    }

    public Task DefaultPolicyChanged(string policy)
    {
        lock (_lock) _defaultPolicy = policy;
        CapacityAppeared?.Invoke();
        return Task.CompletedTask;
    }

    private void AddNode(string name, NodeRecord record, IReadOnlyList<BoundPod> pods)
    {
        _nodes[name] = record;
        if (_rebuild) return;
        var node = _state.AddNode(record.Info.Spec, record.Info.Ready);
        SetUtilization(node, record.Info);
        foreach (var image in record.Info.Images) _state.AddImage(node, image);
        foreach (var bound in BoundPod.InBindOrder(pods))
        {
            if (_state.TryGetPodLocation(bound.Pod.Name, out _, out _)) _state.Unbind(bound.Pod.Name);
            if (!_state.TryBind(node, bound)) _rebuild = true;
        }
    }

    private void RemoveNode(string name)
    {
        if (_nodes.Remove(name)) _rebuild = true;
    }

    /// <summary>The node's pods as the node says, plus the assumptions of in-flight cycles that still fit beside them.</summary>
    private void RebuildNode(string name, NodeRecord record)
    {
        var node = _state.IndexOf(name);
        var assumed = _state.PodsOn(node).Where(b => !record.Pods.ContainsKey(b.Pod.Name)).ToList();
        foreach (var bound in _state.PodsOn(node).ToList()) _state.Unbind(bound.Pod.Name);
        foreach (var bound in BoundPod.InBindOrder(record.Pods.Values))
        {
            if (_state.TryGetPodLocation(bound.Pod.Name, out _, out _)) _state.Unbind(bound.Pod.Name);
            if (!_state.TryBind(node, bound))
            {
                _rebuild = true;
                return;
            }
        }
        foreach (var bound in assumed) _state.TryBind(node, bound);
    }

    /// <summary>
    /// A fresh ClusterState from the records (after a node left or changed capacity); assumptions are dropped, the
    /// cycles' nominations kept (those to nodes still here).
    /// </summary>
    private void RebuildAll()
    {
        _rebuild = false;
        var earlier = _state;
        _state = new ClusterState();
        foreach (var (name, record) in _nodes)
        {
            var node = _state.AddNode(record.Info.Spec, record.Pods.Values, record.Info.Ready, record.Info.Images,
                misfit: bound => LogInconsistent(logger, name, bound.Pod.Name));
            SetUtilization(node, record.Info);
        }
        _state.KeepNominationsOf(earlier);
    }

    private void SetUtilization(int node, NodeInfo info)
    {
        foreach (var kind in ResourceNames.All) _state.SetUtilization(node, kind, float.NaN);
        foreach (var (name, value) in info.Utilization)
        {
            if (ResourceNames.TryParse(name, out var kind)) _state.SetUtilization(node, kind, (float)value);
        }
    }

    /// <summary>
    /// The pod left this silo's scheduling (deleted): its nomination goes (kube's nominator forgets a deleted pod), and
    /// the assumption a failed cycle kept for it (a cycle keeps one while its reservation's outcome is unknown,
    /// <c>SchedulingCycle</c>), or either would hold the room in this view for good. A pod a node reports stays: the
    /// view follows that node's release.
    /// </summary>
    public void ForgetAssumed(string pod)
    {
        bool freed;
        lock (_lock)
        {
            freed = _state.ForgetNomination(pod);
            if (!_rebuild && _state.TryGetPodLocation(pod, out var node, out _)
                && !(_nodes.TryGetValue(_state.NameOf(node), out var record) && record.Pods.ContainsKey(pod)))
                freed |= _state.Unbind(pod);
        }
        if (freed) RoomFreedInView();
    }

    async ValueTask<bool> IClusterSnapshotSource.ForgetAssumption(string pod)
    {
        var freed = await WithCluster(s => s.Cluster.Unbind(pod));
        if (freed) RoomFreedInView();
        return freed;
    }

    /// <summary>
    /// Room only this view held (an assumption or a nomination) was freed: the waiting pods are tried again, as for room a
    /// node freed. No node change tells of it, so without this they waited out MaxInUnschedulableSeconds. kube does
    /// the same: handleBindingCycleError (pkg/scheduler/schedule_one.go) treats forgetting an assumed pod as
    /// AssignedPodDelete and calls MoveAllToActiveOrBackoffQueue. Call outside the lock.
    /// </summary>
    private void RoomFreedInView() => CapacityAppeared?.Invoke();

    /// <summary>
    /// The pod's stored nomination (its status' nominatedNodeName) is counted on that node, unless the view holds a
    /// nomination of the pod already (a cycle's, newer than what the pod stored) or does not know the node. How a view
    /// gets the nominations of a shard that activated afresh on its silo (<see cref="ForgetNominations"/>).
    /// </summary>
    public async Task KeepStoredNomination(string node, PodSpec pod, long version)
    {
        if (!_ready.Task.IsCompleted) await _ready.Task;
        lock (_lock)
        {
            if (_rebuild) RebuildAll();
            if (_state.NominatedNodeOf(pod.Name) is null && _state.IndexOf(node) is var index and >= 0) _state.Nominate(index, pod, version);
        }
    }

    /// <summary>
    /// The pod stored the nomination to <paramref name="node"/> its cycle made in this view, as <paramref name="version"/>
    /// (<see cref="Nomination.Version"/>): from now on a clear of that version forgets it (<see cref="ForgetNomination"/>).
    /// </summary>
    public void NominationStored(string pod, string node, long version)
    {
        lock (_lock)
        {
            if (_state.IndexOf(node) is var index and >= 0) _state.NominationStored(pod, index, version);
        }
    }

    /// <summary>
    /// The pod's stored nomination <paramref name="version"/> to <paramref name="node"/> was cleared, by a preemptor's cycle
    /// that may have run on another silo (kube's nominator drops a pod whose status no longer names the node): this view
    /// counts it there no more. A newer nomination stays: to another node, or to the same one by the pod's own cycle,
    /// whose nomination the clear may reach first (the pod stores it after the clear).
    /// </summary>
    public void ForgetNomination(string pod, string node, long version)
    {
        bool freed;
        lock (_lock) freed = _state.IndexOf(node) is var index and >= 0 && _state.ForgetNomination(pod, index, version);
        if (freed) RoomFreedInView();
    }

    /// <summary>
    /// A queue shard left this silo: the nominations its cycles made in this view go with it (its next activation's
    /// view takes them from the pods, <see cref="KeepStoredNomination"/>). Kept, a pod deleted after the move would hold its node's
    /// room in this view for good, as only the shard's own silo hears of the deletion (<see cref="ForgetAssumed"/>).
    /// </summary>
    public void ForgetNominations(Func<string, bool> ofPods)
    {
        lock (_lock) _state.ForgetNominations(ofPods);
    }

    /// <summary>The view of one node as the API shows it, or null when the view does not know it.</summary>
    public NodeView? Node(string name)
    {
        lock (_lock) return _nodes.TryGetValue(name, out var record) ? ToView(record) : null;
    }

    /// <summary>
    /// The reservations the nodes report (their own word, not the cycles' assumptions) of the pods
    /// <paramref name="include"/> selects: what a queue shard's reconciliation checks its pods against, without
    /// copying any node. Each names the pod of its name it is for (<see cref="PodSpec.CreatedAt"/>).
    /// </summary>
    public List<(string Node, string Pod, DateTimeOffset? PodCreatedAt)> Reservations(Func<string, bool> include)
    {
        var found = new List<(string Node, string Pod, DateTimeOffset? PodCreatedAt)>();
        lock (_lock)
        {
            foreach (var (name, record) in _nodes)
            {
                foreach (var (pod, bound) in record.Pods)
                    if (include(pod)) found.Add((name, pod, bound.Pod.CreatedAt));
            }
        }
        return found;
    }

    /// <summary>Every node in name order.</summary>
    public IReadOnlyList<NodeView> Nodes()
    {
        lock (_lock) return _nodes.Values.Select(ToView).ToList();
    }

    /// <summary>
    /// One page of nodes in name order, from an offset or after the last name of the previous page, as the API lists
    /// them. Every silo's view holds every node, so a listing is answered where it is asked, and only the page's
    /// nodes are copied.
    /// </summary>
    public async Task<Page<NodeView>> ListNodes(int offset, int limit, string? after)
    {
        await WhenReady();
        lock (_lock)
        {
            var page = Paging.Take(_nodes, offset, limit, after);
            return new Page<NodeView>(page.Items.Select(ToView).ToList(), page.Total, page.Continue);
        }
    }

    /// <summary>
    /// Every node without its pods, in name order: what summaries, gauges and the autoscaler need, at a cost per node
    /// (a full <see cref="NodeView"/> copies and sorts every bound pod).
    /// </summary>
    public IReadOnlyList<NodeUsage> Usage()
    {
        lock (_lock) return _nodes.Select(kv => new NodeUsage(kv.Key, kv.Value.Info, kv.Value.Allocated)).ToList();
    }

    private static NodeView ToView(NodeRecord r) =>
        new(r.Info.Spec, r.Info.Ready, [.. r.Pods.Values.OrderBy(b => b.Pod.Name, StringComparer.Ordinal)], r.Info.Utilization, r.Info.LastTelemetry, r.Info.Images, r.Info.Draining, r.Incarnation, r.Seq,
            r.Info.Created, r.Info.ReadyChanged);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Cluster view could not re-read node {Node}; reading it again in {Delay}")]
    private static partial void LogResyncFailed(ILogger logger, Exception error, string node, TimeSpan delay);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Information, Message = "Cluster view's re-read of node {Node} broken by a sibling's graceful stop ({Error}); read again once it is gone")]
    private static partial void LogResyncAwaitsStop(ILogger logger, string node, string error);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Debug, Message = "Cluster view's re-read of node {Node} cut short by this silo's stop ({Error})")]
    private static partial void LogResyncCutShort(ILogger logger, string node, string error);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Node {Node} reports pod {Pod} that does not fit it; the view leaves it out")]
    private static partial void LogInconsistent(ILogger logger, string node, string pod);
}

/// <summary>A node as a silo's view knows it, without its pods: its description and the sum of its pods' requests.</summary>
public sealed record NodeUsage(string Name, NodeInfo Info, ResourceVector Allocated);
