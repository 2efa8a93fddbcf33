using System.Threading.Channels;
using k8s;
using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// The silo's view of pods and nodes for the Kubernetes surface, with resourceVersions and a change history for
/// watches. Grains keep no resourceVersion and publish no changes, so this compares listings (nodes from this silo's
/// cluster view, pods from the index): on every list request, and every 250 ms while a watch is open. A change is
/// whatever differs between two looks; each gets the next version of this silo's counter, which starts from the clock
/// so versions from before a restart are older than every new one (a watch from one gets 410 Gone and kubectl lists
/// again).
/// </summary>
internal sealed class KubeCache(IGrainFactory grains, SiloClusterView clusterView, ILogger<KubeCache> logger)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
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
    // Workload key → the stamp of its latest remembering (see ForgetWorkloads).
    private readonly Dictionary<string, long> _workloads = [];
    private long _workloadStamp;
    private readonly List<Channel<Change>> _watchers = [];
    private readonly object _lock = new();
    private long _version = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    private long _floor = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    private Task? _poller;
    private int _pollKeepers;

    public long Version => Interlocked.Read(ref _version);

    /// <summary>Workloads seen as pods' owners or created through this surface (the index lists no workloads).</summary>
    public IReadOnlyList<string> Workloads => WorkloadsAsOf().Keys;

    /// <summary>The workloads remembered, with a stamp to hand to <see cref="ForgetWorkloads"/> after looking them up.</summary>
    public (IReadOnlyList<string> Keys, long Stamp) WorkloadsAsOf() { lock (_lock) return ([.. _workloads.Keys], _workloadStamp); }

    public void RememberWorkload(string key) { lock (_lock) _workloads[key] = ++_workloadStamp; }

    /// <summary>
    /// Forgets workloads their grains said do not exist, so deleted deployments are neither kept nor looked up again.
    /// One remembered after <paramref name="stamp"/> stays: it was re-created while the lookup was under way.
    /// </summary>
    public void ForgetWorkloads(IEnumerable<string> deleted, long stamp)
    {
        lock (_lock)
        {
            foreach (var key in deleted)
                if (_workloads.TryGetValue(key, out var remembered) && remembered <= stamp) _workloads.Remove(key);
        }
    }

    /// <summary>Changes written to subscribers and not yet read by them (a subscriber that never reads holds every change).</summary>
    public int UnreadChanges { get { lock (_lock) return _watchers.Sum(w => w.Reader.Count); } }

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
    /// The resourceVersion a node's GET serves and a write's precondition is held to: that of the node as this silo's
    /// cluster view has it now (the listing's source), recorded first as a listing would when it has not been (the next
    /// version; a watch sees that change once, and the next listing, finding the node as recorded, keeps it). A manifest
    /// saved from the GET then stays current until the node changes (it was served the silo's moving version, which the
    /// first listing after it made a 409). Null when the view does not know the node yet.
    /// </summary>
    public async Task<string?> NodeVersion(string name, CancellationToken cancellation)
    {
        await clusterView.WhenReady();
        await _gate.WaitAsync(cancellation);
        try
        {
            if (clusterView.Node(name) is not { } listed) return null;
            var node = KubeNodeObjects.ToNode(listed, "");
            var fingerprint = KubernetesJson.Serialize(node);
            if (_nodes.TryGetValue(name, out var known) && known.Fingerprint == fingerprint) return known.Object.Metadata.ResourceVersion;
            Record(_nodes, name, new Entry(node, fingerprint, null, null, []), known, "nodes");
            return node.Metadata.ResourceVersion;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A pod as its grain has it now, with the resourceVersion that names that state, for a GET to serve and a write to
    /// check a precondition against; null when the pod does not exist (a listing then notices it gone). A state this silo
    /// has not recorded is recorded as a listing would (the next version, ADDED or MODIFIED for watchers): a watcher sees
    /// the change once, sooner, and the next listing finds the pod as recorded and keeps its version, so a manifest saved
    /// from the GET stays current until the pod changes (it was served the silo's moving version, which the first listing
    /// after it made a 409).
    /// </summary>
    public async Task<(PodView View, string Version)?> ReadPod(string key, CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation);
        try
        {
            // Read under the gate, so no listing records a newer look between this read and its recording.
            if (await grains.Reference<IPodGrain>(key).Get() is not { } view) return null;
            var pod = KubePodObjects.ToPod(view, "");
            var fingerprint = KubernetesJson.Serialize(pod);
            if (view.Workload is { } workload) RememberWorkload(workload);
            _pods.TryGetValue(key, out var known);
            if (known?.Fingerprint == fingerprint) return (view, known.Object.Metadata.ResourceVersion);
            // Its listing entry stays the one last listed (none if never): the next listing reads the pod again and finds it as recorded.
            Record(_pods, key, new Entry(pod, fingerprint, known?.Listed, view.Workload, view.Events), known, "pods");
            return (view, pod.Metadata.ResourceVersion);
        }
        finally
        {
            _gate.Release();
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
            catch (Exception e) when (e is OrleansException or TimeoutException or StackExchange.Redis.RedisException)
            {
                // The next look tries again; watchers stay open as they would across an API server hiccup.
                logger.LogWarning(e, "Kubernetes watch could not list the cluster; retrying");
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
            var node = KubeNodeObjects.ToNode(listed, "");
            var fingerprint = KubernetesJson.Serialize(node);
            if (_nodes.TryGetValue(listed.Name, out var known) && known.Fingerprint == fingerprint) continue;
            Record(_nodes, listed.Name, new Entry(node, fingerprint, null, null, []), known, "nodes");
        }
        foreach (var gone in _nodes.Keys.Where(k => !seen.Contains(k)).ToList()) Remove(_nodes, gone, "nodes");
    }

    private async Task RefreshPods()
    {
        var index = grains.Reference<IClusterIndexGrain>(ClusterIndex.Key);
        // One listing in full: the index asks each queue shard once for all its pods, where pages would ask every shard
        // for a page's worth each time.
        var listed = new Dictionary<string, PodEntry>();
        foreach (var entry in (await index.ListPods(0, int.MaxValue, null)).Items) listed[entry.Name] = entry;
        // Only pods whose listing changed are read in full: their phase or node moved, or they are new.
        var changed = listed.Values.Where(e => !_pods.TryGetValue(e.Name, out var known) || known.Listed != e).ToList();
        foreach (var batch in changed.Chunk(64))
        {
            var views = await Task.WhenAll(batch.Select(e => grains.Reference<IPodGrain>(e.Name).Get()));
            for (var i = 0; i < batch.Length; i++)
            {
                if (views[i] is not { } view) { listed.Remove(batch[i].Name); continue; }
                var pod = KubePodObjects.ToPod(view, "");
                var fingerprint = KubernetesJson.Serialize(pod);
                _pods.TryGetValue(view.Spec.Name, out var known);
                if (view.Workload is { } workload) RememberWorkload(workload);
                if (known?.Fingerprint == fingerprint)
                {
                    lock (_lock) _pods[view.Spec.Name] = known with { Listed = batch[i], Events = view.Events };
                    continue;
                }
                Record(_pods, view.Spec.Name, new Entry(pod, fingerprint, batch[i], view.Workload, view.Events), known, "pods");
            }
        }
        foreach (var gone in _pods.Keys.Where(k => !listed.ContainsKey(k)).ToList())
        {
            // A pod a GET recorded before any listing named it goes only when its grain says it is gone, not for being unlisted yet.
            if (_pods[gone].Listed is null && await grains.Reference<IPodGrain>(gone).Get() is not null) continue;
            Remove(_pods, gone, "pods");
        }
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

    private sealed class Registration(Action dispose) : IDisposable
    {
        private int _disposed;
        public void Dispose() { if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose(); }
    }
}
