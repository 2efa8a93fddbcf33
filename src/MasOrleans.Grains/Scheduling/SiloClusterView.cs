using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;

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
public sealed partial class SiloClusterView(IGrainFactory grains, PolicyCatalog catalog, ILogger<SiloClusterView> logger, TimeSpan? gapGrace = null)
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
        lock (_lock)
        {
            _defaultPolicy = membership.DefaultPolicy;
            foreach (var gone in _nodes.Keys.Where(n => !listed.Contains(n)).ToList()) RemoveNode(gone);
            unknown = rereadAll ? [.. listed] : listed.Where(n => !_nodes.ContainsKey(n)).ToList();
        }
        await Task.WhenAll(unknown.Select(Resync));
    }

    public Task DefaultPolicyChanged(string policy)
    {
        lock (_lock) _defaultPolicy = policy;
        CapacityAppeared?.Invoke();
        return Task.CompletedTask;
    }

    public Task NodesChanged(IReadOnlyList<NodeChange> changes)
    {
        var gained = false;
        var assigned = false;
        List<string>? resync = null;
        List<string>? gaps = null;
        lock (_lock)
        {
            foreach (var change in changes)
            {
                switch (Offer(change))
                {
                    case Applied.Gained: gained = true; break;
                    case Applied.Assigned: assigned = true; break;
                    case Applied.NeedsResync: (resync ??= []).Add(change.Node); break;
                    case Applied.Gap: (gaps ??= []).Add(change.Node); break;
                }
            }
        }
        foreach (var node in resync ?? []) _ = Resync(node);
        foreach (var node in gaps ?? []) _ = ResyncIfGapStays(node);
        if (gained) CapacityAppeared?.Invoke();
        else if (assigned) PodAssigned?.Invoke();
        return Task.CompletedTask;
    }

    public Task NodesLatest(IReadOnlyList<NodeLatest> latest)
    {
        List<NodeLatest>? behind = null;
        lock (_lock)
        {
            foreach (var node in latest)
                if (IsBehind(node)) (behind ??= []).Add(node);
        }
        foreach (var node in behind ?? []) _ = ResyncIfStillBehind(node);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The view has not applied the node's latest change (or knows another activation of it), and is not already
    /// waiting on a gap. A node the view does not know is left to the membership renewal, which reads it.
    /// </summary>
    private bool IsBehind(NodeLatest latest) =>
        _nodes.TryGetValue(latest.Node, out var record) && !record.AwaitingGap
        && (record.Incarnation != latest.Incarnation || record.Seq < latest.Seq);

    /// <summary>The changes up to the latest may still be on their way (one-way messages keep no order).</summary>
    private Task ResyncIfStillBehind(NodeLatest latest) => ResyncAfterGrace(latest.Node, () => IsBehind(latest));

    /// <summary>
    /// Re-reads the node after the grace if <paramref name="stillNeeded"/> (checked under the lock) says the missing
    /// change was lost, not late: the one wait behind every re-read asked for by a gap or a repeat.
    /// </summary>
    private async Task ResyncAfterGrace(string name, Func<bool> stillNeeded)
    {
        await Task.Delay(_gapGrace);
        lock (_lock)
        {
            if (!stillNeeded()) return;
        }
        await Resync(name);
    }

    private enum Applied { Nothing, Changed, Assigned, Gained, NeedsResync, Gap }

    /// <summary>Re-reads the node if a change is still missing after the grace (it was lost, not late).</summary>
    private Task ResyncIfGapStays(string name) => ResyncAfterGrace(name, () =>
    {
        if (!_nodes.TryGetValue(name, out var record) || !record.AwaitingGap) return false;
        record.AwaitingGap = false;
        return record.Pending.Count > 0;
    });

    private Applied Offer(NodeChange change)
    {
        if (!_nodes.TryGetValue(change.Node, out var record))
        {
            if (change is { Kind: NodeChangeKind.Info, Seq: 1, Info: { } info })
            {
                AddNode(change.Node, new NodeRecord(info, change.Incarnation, 1), []);
                return Applied.Gained;
            }
            return change.Kind == NodeChangeKind.Removed ? Applied.Nothing : Applied.NeedsResync;
        }
        if (change.Incarnation != record.Incarnation)
        {
            // A new activation of the node grain (its silo died) or a node registered again under the same name.
            return change.Kind == NodeChangeKind.Removed ? Remove(change.Node) : Applied.NeedsResync;
        }
        if (change.Seq <= record.Seq) return Applied.Nothing;
        if (change.Seq > record.Seq + 1)
        {
            record.Pending[change.Seq] = change;
            if (record.AwaitingGap) return Applied.Nothing;
            record.AwaitingGap = true;
            return Applied.Gap;
        }
        var result = Apply(record, change);
        while (record.Pending.Count > 0 && record.Pending.First().Key <= record.Seq + 1)
        {
            var next = record.Pending.First();
            record.Pending.Remove(next.Key);
            if (next.Key != record.Seq + 1) continue;
            var applied = Apply(record, next.Value);
            if (applied == Applied.Gained || (applied == Applied.Assigned && result != Applied.Gained)) result = applied;
        }
        return result;
    }

    private Applied Remove(string node)
    {
        RemoveNode(node);
        return Applied.Nothing;
    }

    private Applied Apply(NodeRecord record, NodeChange change)
    {
        record.Seq = change.Seq;
        var node = _state.IndexOf(change.Node);
        switch (change.Kind)
        {
            case NodeChangeKind.PodBound when change.Bound is { } bound:
                record.Bind(bound);
                if (_rebuild || node < 0) return Applied.Assigned;
                if (_state.TryGetPodLocation(bound.Pod.Name, out var at, out _))
                {
                    if (at == node) return Applied.Assigned; // assumed by a cycle on this silo, now confirmed
                    _state.Unbind(bound.Pod.Name);
                }
                if (!_state.TryBind(node, bound.Pod, bound.Gpus)) RebuildNode(change.Node, record);
                return Applied.Assigned;
            case NodeChangeKind.PodReleased when change.Released is { } pod:
                record.Release(pod);
                if (!_rebuild && node >= 0 && _state.TryGetPodLocation(pod, out var where, out _) && where == node) _state.Unbind(pod);
                return Applied.Gained;
            case NodeChangeKind.Info when change.Info is { } info:
                var before = record.Info;
                record.Info = info;
                if (!_rebuild && node >= 0) ApplyInfo(node, before, info);
                return GainedCapacity(before, info) ? Applied.Gained : Applied.Changed;
            case NodeChangeKind.Removed:
                RemoveNode(change.Node);
                return Applied.Nothing;
            default:
                throw new InvalidOperationException($"malformed change {change.Kind} of node {change.Node}");
        }
    }

    private void ApplyInfo(int node, NodeInfo before, NodeInfo info)
    {
        if (before.Spec.Capacity != info.Spec.Capacity)
        {
            _rebuild = true;
            return;
        }
        if (!ReferenceEquals(before.Spec, info.Spec)) _state.UpdateNode(info.Spec);
        if (before.Ready != info.Ready) _state.SetReady(node, info.Ready);
        SetUtilization(node, info);
        foreach (var image in info.Images) _state.AddImage(node, image);
    }

    private static bool GainedCapacity(NodeInfo before, NodeInfo after) =>
        (after.Ready && !before.Ready)
        || (before.Spec.Unschedulable && !after.Spec.Unschedulable)
        || !ReferenceEquals(before.Spec.Labels, after.Spec.Labels)
        || !ReferenceEquals(before.Spec.Taints, after.Spec.Taints);

    /// <summary>First wait before a failed re-read is tried again; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(16);

    /// <summary>Reads the node from its grain and replaces what the view had; changes newer than the read are kept.</summary>
    public Task Resync(string name) => Resync(name, FirstRetryDelay);

    /// <summary>
    /// A failed read is tried again after <paramref name="retryDelay"/>: the read was asked for because the view is
    /// behind (a new activation, a lost change), and the node may change no more (the load ended, its silo died),
    /// so nothing else would bring the view up to date until the periodic full re-read.
    /// </summary>
    private async Task Resync(string name, TimeSpan retryDelay)
    {
        lock (_lock)
        {
            if (!_resyncing.Add(name))
            {
                _resyncAgain.Add(name);
                return;
            }
        }
        try
        {
            var view = await grains.Reference<INodeGrain>(name).GetView();
            var gained = false;
            var gapLeft = false;
            lock (_lock)
            {
                if (view is null)
                {
                    RemoveNode(name);
                    return;
                }
                _nodes.TryGetValue(name, out var old);
                var pending = old?.Incarnation == view.Incarnation ? old.Pending.Where(p => p.Key > view.Seq).ToList() : [];
                var record = new NodeRecord(new NodeInfo(view.Spec, view.Ready, view.Utilization, view.LastTelemetry, view.Images ?? [], view.Draining, view.Created, view.ReadyChanged), view.Incarnation, view.Seq);
                foreach (var bound in view.Pods) record.Bind(bound);
                foreach (var (seq, change) in pending) record.Pending[seq] = change;
                if (old is null || old.Info.Spec.Capacity != record.Info.Spec.Capacity)
                {
                    if (old is not null) _rebuild = true;
                    if (old is not null) _nodes[name] = record;
                    else AddNode(name, record, view.Pods);
                }
                else
                {
                    _nodes[name] = record;
                    var node = _state.IndexOf(name);
                    if (!_rebuild && node >= 0)
                    {
                        ApplyInfo(node, old.Info, record.Info);
                        RebuildNode(name, record);
                    }
                }
                gained = true;
                while (record.Pending.Count > 0 && record.Pending.First().Key == record.Seq + 1)
                {
                    var next = record.Pending.First();
                    record.Pending.Remove(next.Key);
                    Apply(record, next.Value);
                }
                // Changes newer than the read that still do not follow on (one arrived during the read, its predecessor
                // is late): kept, and waited for like any gap, or this node would stay behind until its next change.
                gapLeft = record.Pending.Count > 0;
                record.AwaitingGap = gapLeft;
            }
            if (gapLeft) _ = ResyncIfGapStays(name);
            if (gained) CapacityAppeared?.Invoke();
        }
        catch (Exception e)
        {
            LogResyncFailed(logger, e, name, retryDelay);
            _ = RetryResync(name, retryDelay);
        }
        finally
        {
            bool again;
            lock (_lock)
            {
                _resyncing.Remove(name);
                again = _resyncAgain.Remove(name);
            }
            if (again) _ = Resync(name);
        }
    }

    /// <summary>Nodes with a retry scheduled: one per node, however many reads failed meanwhile.</summary>
    private readonly HashSet<string> _retrying = new(StringComparer.Ordinal);

    private async Task RetryResync(string name, TimeSpan delay)
    {
        lock (_lock)
        {
            if (!_retrying.Add(name)) return;
        }
        await Task.Delay(delay);
        lock (_lock) _retrying.Remove(name);
        var next = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
        await Resync(name, next);
    }

    private void AddNode(string name, NodeRecord record, IReadOnlyList<BoundPod> pods)
    {
        _nodes[name] = record;
        if (_rebuild) return;
        var node = _state.AddNode(record.Info.Spec, record.Info.Ready);
        SetUtilization(node, record.Info);
        foreach (var image in record.Info.Images) _state.AddImage(node, image);
        foreach (var bound in pods)
        {
            if (_state.TryGetPodLocation(bound.Pod.Name, out _, out _)) _state.Unbind(bound.Pod.Name);
            if (!_state.TryBind(node, bound.Pod, bound.Gpus)) _rebuild = true;
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
        foreach (var bound in record.Pods.Values)
        {
            if (_state.TryGetPodLocation(bound.Pod.Name, out _, out _)) _state.Unbind(bound.Pod.Name);
            if (!_state.TryBind(node, bound.Pod, bound.Gpus))
            {
                _rebuild = true;
                return;
            }
        }
        foreach (var bound in assumed) _state.TryBind(node, bound.Pod, bound.Gpus);
    }

    /// <summary>A fresh ClusterState from the records (after a node left or changed capacity); assumptions are dropped.</summary>
    private void RebuildAll()
    {
        _rebuild = false;
        _state = new ClusterState();
        foreach (var (name, record) in _nodes)
        {
            var node = _state.AddNode(record.Info.Spec, record.Pods.Values, record.Info.Ready, record.Info.Images,
                misfit: bound => LogInconsistent(logger, name, bound.Pod.Name));
            SetUtilization(node, record.Info);
        }
    }

    private void SetUtilization(int node, NodeInfo info)
    {
        foreach (var kind in ResourceNames.All) _state.SetUtilization(node, kind, float.NaN);
        foreach (var (name, value) in info.Utilization)
        {
            if (ResourceNames.TryParse(name, out var kind)) _state.SetUtilization(node, kind, (float)value);
        }
    }

    /// <summary>The view of one node as the API shows it, or null when the view does not know it.</summary>
    public NodeView? Node(string name)
    {
        lock (_lock) return _nodes.TryGetValue(name, out var record) ? ToView(record) : null;
    }

    /// <summary>
    /// The reservations the nodes report (their own word, not the cycles' assumptions) of the pods
    /// <paramref name="include"/> selects: what a queue shard's reconciliation checks its pods against, without
    /// copying any node.
    /// </summary>
    public List<(string Node, string Pod)> Reservations(Func<string, bool> include)
    {
        var found = new List<(string Node, string Pod)>();
        lock (_lock)
        {
            foreach (var (name, record) in _nodes)
            {
                foreach (var pod in record.Pods.Keys)
                    if (include(pod)) found.Add((name, pod));
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

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Node {Node} reports pod {Pod} that does not fit it; the view leaves it out")]
    private static partial void LogInconsistent(ILogger logger, string node, string pod);
}

/// <summary>A node as a silo's view knows it, without its pods: its description and the sum of its pods' requests.</summary>
public sealed record NodeUsage(string Name, NodeInfo Info, ResourceVector Allocated);
