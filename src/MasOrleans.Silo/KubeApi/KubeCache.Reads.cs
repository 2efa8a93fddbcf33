using k8s;
using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Reads of one object through the cache, each answered at the resourceVersion that names the state read: pods (here)
/// and deployments (KubeCache.Deployments.cs) by one rule, <see cref="ReadRecorded"/>; nodes from this silo's cluster view.
/// </summary>
internal sealed partial class KubeCache
{
    /// <summary>
    /// A pod as its grain has it now, the pod as served from it (rendered once, as <see cref="ReadDeployment"/>'s: the
    /// rendering compared is the one answered) and the resourceVersion that names that state, for a GET to serve and a
    /// write to check a precondition against; null when the pod does not exist (a stored entry of it is removed: DELETED
    /// for watchers). A new state is recorded as a listing would (the next version, ADDED or MODIFIED for watchers): a
    /// watcher sees the change once, sooner, and the next listing finds the pod as recorded and keeps its version. The
    /// pod served is then the one recorded, shared with listings and watches: read it, never change it.
    /// </summary>
    public async Task<(PodView View, V1Pod Pod, string Version)?> ReadPod(string key, CancellationToken cancellation)
    {
        var pod = grains.Reference<IPodGrain>(key);
        var read = await ReadRecorded(key, _gate, cancellation,
            read: () => pod.Get(),
            look: view => Known(_pods, key, view)!,
            recorded: () => _pods.ContainsKey(key),
            record: look =>
            {
                _pods.TryGetValue(key, out var known);
                // Its listing entry stays the one last listed (none if never): the next listing reads the pod again and finds it as recorded.
                Record(_pods, key, new Entry(look.Served, look.Fingerprint, known?.Listed, look.View.Workload, look.View.Events), known, "pods");
                return look.Served.Metadata.ResourceVersion;
            },
            forget: () =>
            {
                if (_pods.ContainsKey(key)) Remove(_pods, key, "pods");
            });
        if (read is not { } found) return null;
        // A state recorded before was rendered for this read alone, without a version; one recorded now has it already.
        if (found.Served.Metadata.ResourceVersion != found.Version) found.Served.Metadata.ResourceVersion = found.Version;
        return (found.View, found.Served, found.Version!);
    }

    /// <summary>
    /// An object read from its grain and answered at the version that names the state read. The grain is read outside
    /// <paramref name="gate"/>, so one slow object stalls no other read, listing or watch: a state recorded already is
    /// answered at its version under the lock alone (nothing recorded, so nothing reordered). A new state, or none where
    /// one was recorded, takes the gate and is read again there, so nothing records a newer look between that read and
    /// its recording, and an object found gone is forgotten only as of a read under the gate (outside it, a delete and
    /// re-create meanwhile could have its new version recorded, and erased).
    /// </summary>
    /// <param name="look">The view rendered and compared with what is recorded (<see cref="Look{TView, TObject}.Version"/> when the same).</param>
    /// <param name="recorded">Whether anything is recorded for the object (asked under the lock).</param>
    /// <param name="record">Records a new state under the gate; returns its version.</param>
    /// <param name="forget">Drops what is recorded, the object found gone under the gate.</param>
    private async Task<Look<TView, TObject>?> ReadRecorded<TView, TObject>(string key, SemaphoreSlim gate, CancellationToken cancellation,
        Func<Task<TView?>> read, Func<TView, Look<TView, TObject>> look, Func<bool> recorded, Func<Look<TView, TObject>, string> record, Action forget)
        where TView : class
    {
        if (await read() is { } first)
        {
            if (look(first) is { Version: not null } known) return known;
        }
        else
        {
            // Nothing recorded, nothing to forget: no gate for an object that never was here.
            lock (_lock)
            {
                if (!recorded()) return null;
            }
        }
        await gate.WaitAsync(cancellation);
        try
        {
            if (await Limited(read(), key) is not { } view)
            {
                forget();
                return null;
            }
            var now = look(view);
            return now.Version is null ? now with { Version = record(now) } : now;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>An object as served (no version yet), its fingerprint, and the version stored for it when that is the state stored.</summary>
    private sealed record Look<TView, TObject>(TView View, TObject Served, string Fingerprint, string? Version);

    /// <summary>
    /// How long a heartbeat alone leaves a node's recorded state standing: a kubelet with node leases posts an unchanged
    /// status every nodeStatusReportFrequency, 5 min by default (its heartbeats go to its Lease), so a node watch sees a
    /// node move when it changes or once in 5 min. Each telemetry reading was a change: 2,000 nodes reporting every 10 s
    /// were 200 MODIFIED events a second for every node watch, and filled the 10,000 changes kept for resuming watches in
    /// 50 s, so a pod watch resumed a minute later was Expired (session 42).
    /// </summary>
    public static readonly TimeSpan HeartbeatReportPeriod = TimeSpan.FromMinutes(5);

    private Look<NodeView, V1Node>? Known(Dictionary<string, Entry> map, string name, NodeView? view)
    {
        if (view is null) return null;
        var node = KubeNodeObjects.ToNode(view, "");
        // Fingerprinted without the heartbeat; a heartbeat the period past the recorded one is a change of its own.
        var ready = node.Status.Conditions.Single(c => c.Type == "Ready");
        var heartbeat = ready.LastHeartbeatTime;
        ready.LastHeartbeatTime = null;
        var fingerprint = KubernetesJson.Serialize(node);
        ready.LastHeartbeatTime = heartbeat;
        lock (_lock)
        {
            if (!map.TryGetValue(name, out var known) || known.Fingerprint != fingerprint) return new(view, node, fingerprint, null);
            var recorded = (known.Object as V1Node)?.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastHeartbeatTime;
            return new(view, node, fingerprint, HeartbeatIsNews(heartbeat, recorded) ? null : known.Object.Metadata.ResourceVersion);
        }
    }

    /// <summary>
    /// Whether a node otherwise unchanged is recorded anew for its heartbeat: none was recorded, the heartbeat went back
    /// (a reading from another clock: recorded as it is, not held behind), or a report period has passed since the recorded one.
    /// </summary>
    internal static bool HeartbeatIsNews(DateTime? heartbeat, DateTime? recorded) =>
        heartbeat is { } now && (recorded is not { } then || now < then || now - then >= HeartbeatReportPeriod);

    private Look<PodView, V1Pod>? Known(Dictionary<string, Entry> map, string key, PodView? view)
    {
        if (view is null) return null;
        var pod = KubePodObjects.ToPod(view, "");
        return Compared(map, key, view, pod);
    }

    private Look<TView, TObject> Compared<TView, TObject>(Dictionary<string, Entry> map, string key, TView view, TObject value) where TObject : IKubernetesObject<V1ObjectMeta> =>
        Compared(view, value, fingerprint => map.TryGetValue(key, out var known) && known.Fingerprint == fingerprint ? known.Object.Metadata.ResourceVersion : null);

    /// <summary>The object as rendered, fingerprinted and compared with what is recorded for it (pods and nodes in their maps, deployments apart).</summary>
    /// <param name="recordedVersion">The version recorded when the recorded state has this fingerprint, else null (asked under the lock).</param>
    private Look<TView, TObject> Compared<TView, TObject>(TView view, TObject value, Func<string, string?> recordedVersion) where TObject : IKubernetesObject<V1ObjectMeta>
    {
        var fingerprint = KubernetesJson.Serialize(value);
        lock (_lock) return new(view, value, fingerprint, recordedVersion(fingerprint));
    }
}
