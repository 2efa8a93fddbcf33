using System.Threading.Channels;
using k8s;
using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Grains.Workloads;
using MasOrleans.Silo.Observability;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// The silo's view of pods and nodes for the Kubernetes surface, with resourceVersions and a change history for
/// watches. Grains keep no resourceVersion and publish no changes, so this compares listings (nodes from this silo's
/// cluster view, pods from the index): on every list request, and every 250 ms while a watch is open. A change is
/// whatever differs between two looks; each gets the next version of this silo's counter, which starts from the clock
/// so versions from before a restart are older than every new one (a watch from one gets, as from the API server, a 200
/// stream with one ERROR event, 410 Expired, and kubectl lists again).
/// </summary>
internal sealed partial class KubeCache(IGrainFactory grains, SiloClusterView clusterView, IReminderTable reminders, IClusterMembershipService membership,
    ILocalSiloDetails silo, KubeWriteGates writeGates, ILogger<KubeCache> logger)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    /// <summary>The longest a grain call made under the gate may take (a listing asks each index shard for up to 5 s).</summary>
    public static readonly TimeSpan GateCallLimit = TimeSpan.FromSeconds(10);
    private const int HistoryLimit = 10_000;

    /// <summary>
    /// One change: the object as it is after it and, for MODIFIED and DELETED, as it was before, so a watch with a
    /// selector can tell an object entering or leaving its selection from one changing within it.
    /// </summary>
    public sealed record Change(long Version, string Type, string Resource, IKubernetesObject<V1ObjectMeta> Object, IKubernetesObject<V1ObjectMeta>? Previous);

    /// <param name="PodEvents">Each pod's events (by its key), as read with the pod.</param>
    public sealed record Snapshot(long Version, IReadOnlyList<V1Pod> Pods, IReadOnlyList<V1Node> Nodes, IReadOnlyDictionary<string, IReadOnlyList<PodEvent>> PodEvents);

    /// <param name="Events">A pod's events, kept from the read that the pod's listing changing caused: a pod records an
    /// event only with a change it reports to the index (a new phase, or a repeat's new report version), so a listing
    /// that did not change means events that did not either, and kubectl get events needs no read of its own.</param>
    private sealed record Entry(IKubernetesObject<V1ObjectMeta> Object, string Fingerprint, PodEntry? Listed, string? Workload, IReadOnlyList<PodEvent> Events);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Entry> _pods = [];
    private readonly Dictionary<string, Entry> _nodes = [];
    private readonly Queue<Change> _history = new();
    private readonly List<Channel<Change>> _watchers = [];
    private readonly object _lock = new();
    private long _version = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    private long _floor = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    private Task? _poller;
    private int _pollKeepers;

    public long Version => Interlocked.Read(ref _version);

    /// <summary>
    /// The workloads' keys in ordinal order, from the cluster's one durable record of them (<see cref="WorkloadReminders"/>),
    /// so every silo, and a silo after a restart, finds the same ones. A key whose grain answers null is being created or is gone.
    /// A deployment recorded before this read and not in it is forgotten (<see cref="ForgetUnlisted"/>).
    /// </summary>
    public async Task<IReadOnlyList<string>> WorkloadKeys()
    {
        var asOf = Version;
        var keys = await WorkloadReminders.ReadNames(reminders);
        ForgetUnlisted(keys, asOf);
        return keys;
    }

    /// <summary>Changes written to subscribers and not yet read by them (a subscriber that never reads holds every change).</summary>
    public int UnreadChanges { get { lock (_lock) return _watchers.Sum(w => w.Reader.Count); } }

    /// <summary>
    /// This silo's run of /k8s 503s (<see cref="KubeUnavailable"/>): its first logged with the exception. Kept by the
    /// silo's one cache, so each silo (several share a test process) starts its own run.
    /// </summary>
    public FailureRun Outages { get; } = new();

    /// <summary>Looks at the cluster now, records what changed, and returns everything as of the new version.</summary>
    public async Task<Snapshot> Refresh(CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation);
        try
        {
            await RefreshNodes();
            await RefreshPods();
            return new Snapshot(Version, _pods.Values.Select(e => (V1Pod)e.Object).ToList(), _nodes.Values.Select(e => (V1Node)e.Object).ToList(),
                _pods.ToDictionary(p => p.Key, p => p.Value.Events));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A node as this silo's cluster view has it now (the listing's source), with the resourceVersion a node's GET serves
    /// and a write's precondition is held to, recorded first as a listing would when it has not been (the next version;
    /// a watch sees that change once, and the next listing, finding the node as recorded, keeps it). A manifest saved from
    /// the GET then stays current until the node changes. Null when the view does not know the node, or is not ready
    /// (logged: the caller serves the grain's node at the moving version rather than wait or fail).
    /// </summary>
    public async Task<(NodeView View, string Version)?> ReadNode(string name, CancellationToken cancellation)
    {
        try
        {
            await clusterView.WhenReady();
        }
        catch (TimeoutException)
        {
            LogViewNotReady(logger, name);
            return null;
        }
        if (Known(_nodes, name, clusterView.Node(name)) is not { } look) return null;
        if (look.Version is { } version) return (look.View, version);
        await _gate.WaitAsync(cancellation);
        try
        {
            // Looked at again under the gate (no grain call: the view is this silo's memory), so nothing records between.
            if (Known(_nodes, name, clusterView.Node(name)) is not { } again) return null;
            if (again.Version is { } known) return (again.View, known);
            _nodes.TryGetValue(name, out var previous);
            Record(_nodes, name, new Entry(again.Served, again.Fingerprint, null, null, []), previous, "nodes");
            return (again.View, again.Served.Metadata.ResourceVersion);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A grain call made under the gate, bounded: every read, listing and watch poll waits for the gate, so a call that
    /// hangs would stall them all. Outliving the limit is a <see cref="KubeGateTimeoutException"/> (a 503 Status, or a poll's logged retry).
    /// </summary>
    private static async Task<T> Limited<T>(Task<T> call, string what)
    {
        try
        {
            return await call.WaitAsync(GateCallLimit);
        }
        catch (TimeoutException e)
        {
            // A late failure of the call is observed here; the timeout is what is reported.
            _ = call.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            throw new KubeGateTimeoutException($"{what} did not answer within {GateCallLimit.TotalSeconds:0} s, under the Kubernetes cache's gate", e);
        }
    }

    /// <summary>The oldest resourceVersion a watch can resume from: every change after it is still kept.</summary>
    public long OldestResumable
    {
        get
        {
            lock (_lock) return _floor;
        }
    }

    /// <summary>Changes after <paramref name="version"/>, or null when the history no longer reaches back that far.</summary>
    public IReadOnlyList<Change>? Since(long version)
    {
        lock (_lock)
        {
            if (version < _floor) return null;
            return _history.Where(c => c.Version > version).ToList();
        }
    }

    /// <summary>Every change from now on, until the returned registration is disposed; polling runs while anyone listens.</summary>
    public (ChannelReader<Change> Reader, IDisposable Registration) Subscribe()
    {
        // Not SingleReader: that channel cannot count what it holds (UnreadChanges).
        var channel = Channel.CreateUnbounded<Change>();
        lock (_lock)
        {
            _watchers.Add(channel);
            StartPolling();
        }
        return (channel.Reader, new Registration(() =>
        {
            lock (_lock) _watchers.Remove(channel);
            channel.Writer.TryComplete();
        }));
    }

    /// <summary>
    /// Polling without a subscription, until the returned registration is disposed: for a watch that looks at objects
    /// itself and needs only the version to move (<see cref="KubePolledWatch"/>), which would never read a channel.
    /// </summary>
    public IDisposable KeepPolling()
    {
        lock (_lock)
        {
            _pollKeepers++;
            StartPolling();
        }
        return new Registration(() => { lock (_lock) _pollKeepers--; });
    }

    private void StartPolling()
    {
        if (_poller is null || _poller.IsCompleted) _poller = Task.Run(Poll);
    }

    private async Task Poll()
    {
        while (true)
        {
            lock (_lock)
            {
                if (_watchers.Count == 0 && _pollKeepers == 0) return;
            }
            try
            {
                await Refresh(CancellationToken.None);
            }
            catch (Exception e) when (SiloStopping.BrokenBySiblingsStop(membership, silo.SiloAddress, e))
            {
                // A sibling's graceful stop broke the look (a grain leaving it): the next look, 250 ms on, reaches the
                // grain's next activation. Not a fault: a rolling restart logged a Warning with its stack for each.
                LogPollBrokenBySiblingsStop(logger, FailureRun.OneLine(e));
            }
            catch (Exception e) when (Outage.Is(e, CancellationToken.None))
            {
                // The next look tries again; watchers stay open as they would across an API server hiccup.
                LogPollFailed(logger, e);
            }
            await Task.Delay(PollInterval);
        }
    }

    private async Task RefreshNodes()
    {
        // Every node at once, under one hold of the view's lock: one consistent look.
        var seen = new HashSet<string>();
        foreach (var listed in (await clusterView.ListNodes(0, int.MaxValue, null)).Items)
        {
            seen.Add(listed.Name);
            if (Known(_nodes, listed.Name, listed) is not { Version: null } look) continue;
            _nodes.TryGetValue(listed.Name, out var known);
            Record(_nodes, listed.Name, new Entry(look.Served, look.Fingerprint, null, null, []), known, "nodes");
        }
        foreach (var gone in _nodes.Keys.Where(k => !seen.Contains(k)).ToList()) Remove(_nodes, gone, "nodes");
    }

    private async Task RefreshPods()
    {
        var index = grains.Reference<IClusterIndexGrain>(ClusterIndex.Key);
        // One listing in full: the index asks each queue shard once for all its pods, where pages would ask every shard
        // for a page's worth each time.
        var listed = new Dictionary<string, PodEntry>();
        foreach (var entry in (await Limited(index.ListPods(0, int.MaxValue, null), "the cluster index's pod listing")).Items) listed[entry.Name] = entry;
        // Only pods whose listing changed are read in full: their phase or node moved, or they are new.
        var changed = listed.Values.Where(e => !_pods.TryGetValue(e.Name, out var known) || known.Listed != e).ToList();
        foreach (var batch in changed.Chunk(64))
        {
            var views = await Limited(Task.WhenAll(batch.Select(e => grains.Reference<IPodGrain>(e.Name).Get())), $"{batch.Length} pods' reads");
            for (var i = 0; i < batch.Length; i++)
            {
                if (views[i] is not { } view) { listed.Remove(batch[i].Name); continue; }
                var look = Known(_pods, view.Spec.Name, view)!;
                _pods.TryGetValue(view.Spec.Name, out var known);
                if (look.Version is not null)
                {
                    lock (_lock) _pods[view.Spec.Name] = known! with { Listed = batch[i], Events = view.Events };
                    continue;
                }
                Record(_pods, view.Spec.Name, new Entry(look.Served, look.Fingerprint, batch[i], view.Workload, view.Events), known, "pods");
            }
        }
        var unlisted = _pods.Keys.Where(k => !listed.ContainsKey(k)).ToList();
        // A pod a GET recorded before any listing named it goes only when its grain says it is gone, not for being
        // unlisted yet; those are asked together, and one whose grain did not answer is kept (logged) for the next look.
        var recordedOnly = unlisted.Where(k => _pods[k].Listed is null).ToList();
        var exists = await Task.WhenAll(recordedOnly.Select(async key =>
        {
            try
            {
                return await Limited(grains.Reference<IPodGrain>(key).Get(), key) is not null;
            }
            catch (Exception e) when (Outage.Is(e, CancellationToken.None))
            {
                LogUnlistedPodUnread(logger, e, key);
                return true;
            }
        }));
        var kept = recordedOnly.Where((_, i) => exists[i]).ToHashSet();
        foreach (var gone in unlisted.Where(k => !kept.Contains(k))) Remove(_pods, gone, "pods");
    }

    private void Record(Dictionary<string, Entry> map, string key, Entry entry, Entry? known, string resource)
    {
        lock (_lock)
        {
            var version = Interlocked.Increment(ref _version);
            entry.Object.Metadata.ResourceVersion = version.ToString();
            map[key] = entry;
            Publish(new Change(version, known is null ? "ADDED" : "MODIFIED", resource, entry.Object, known?.Object));
        }
    }

    private void Remove(Dictionary<string, Entry> map, string key, string resource)
    {
        lock (_lock)
        {
            var entry = map[key];
            map.Remove(key);
            var version = Interlocked.Increment(ref _version);
            // A DELETED event carries the object's last state; its copy gets the deletion's version.
            Publish(new Change(version, "DELETED", resource, Restamped(entry.Object, version), entry.Object));
        }
    }

    /// <summary>A copy of a pod or node carrying another resourceVersion (a stored object is shared, so never changed).</summary>
    public static IKubernetesObject<V1ObjectMeta> Restamped(IKubernetesObject<V1ObjectMeta> value, long version)
    {
        IKubernetesObject<V1ObjectMeta> copy = value is V1Node ? Copy<V1Node>(value) : Copy<V1Pod>(value);
        copy.Metadata.ResourceVersion = version.ToString();
        return copy;
    }

    private static T Copy<T>(object value) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(value));

    private void Publish(Change change)
    {
        _history.Enqueue(change);
        while (_history.Count > HistoryLimit) _floor = _history.Dequeue().Version;
        foreach (var watcher in _watchers) watcher.Writer.TryWrite(change);
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Kubernetes watch could not list the cluster; retrying")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2160, Level = LogLevel.Information, Message = "Kubernetes watch's look at the cluster was broken by a sibling silo's stop ({Error}); looking again")]
    private static partial void LogPollBrokenBySiblingsStop(ILogger logger, string error);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "The cluster view was not ready for node {Node}'s Kubernetes read; " +
        "served from its grain at the silo's current resourceVersion")]
    private static partial void LogViewNotReady(ILogger logger, string node);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Pod {Pod} (recorded by a read, not listed by the index) could not be read; kept until the next look")]
    private static partial void LogUnlistedPodUnread(ILogger logger, Exception exception, string pod);

    internal sealed class Registration(Action dispose) : IDisposable
    {
        private int _disposed;
        public void Dispose() { if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose(); }
    }
}
