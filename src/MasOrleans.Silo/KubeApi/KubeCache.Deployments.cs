using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Deployments' resourceVersions: a workload grain keeps none, so a deployment is given one as a pod read through
/// <see cref="ReadPod"/> is (<see cref="ReadRecorded"/>): the state a read finds is compared with the one last recorded,
/// and a new state takes the next version of the silo's counter. A GET, a listing and a write's answer then serve the
/// same version for the same state, and a write's precondition is held to it. Deployments are watched by polling
/// (<see cref="KubePolledWatch"/>), not from the change history, so nothing is published.
/// </summary>
internal sealed partial class KubeCache
{
    // Workload key → the fingerprint of the deployment as last recorded, and its version.
    private readonly Dictionary<string, (string Fingerprint, string Version)> _deployments = [];
    // Orders the recording of deployments' new states, apart from the pods' gate so no pod listing stalls a deployment read.
    private readonly SemaphoreSlim _deploymentGate = new(1, 1);

    /// <summary>
    /// The workloads (<see cref="WorkloadKeys"/>) that <paramref name="wanted"/> names and that exist, each read by
    /// <paramref name="read"/> (null: being created or gone, and not listed), in key order. The one directory of workloads:
    /// the deployment listing reads it whole, REST's workload listing a page of its keys. A request that names
    /// <paramref name="one"/> workload (kubectl rollout status, each second) reads its grain alone, as a GET does, not the
    /// whole table: <paramref name="wanted"/> is given that key. A client gone by the time the keys are read has no
    /// workload read (<paramref name="cancellation"/>).
    /// </summary>
    public async Task<IReadOnlyList<T>> ReadWorkloads<T>(Func<IReadOnlyList<string>, IEnumerable<string>> wanted, Func<string, Task<T?>> read, string? one = null,
        CancellationToken cancellation = default) where T : class
    {
        IReadOnlyList<string> keys = one is null ? await WorkloadKeys() : [one];
        cancellation.ThrowIfCancellationRequested();
        var loaded = await Task.WhenAll(wanted(keys).Select(read));
        return loaded.OfType<T>().ToList();
    }

    /// <summary>The workloads whose deployment has a version recorded here (what a deleted one must not stay in).</summary>
    internal IReadOnlyList<string> RecordedDeployments()
    {
        lock (_lock) return _deployments.Keys.ToList();
    }

    /// <summary>
    /// Drops deployment <paramref name="key"/>'s entry once its workload is deleted, unless it was recorded after
    /// <paramref name="asOf"/> (taken when the delete had completed), which may be a re-create's. No read: one after a made
    /// delete needs Redis to reactivate the grain, and failing, answered a made deletion 503 and its retry 404.
    /// </summary>
    internal void ForgetDeleted(string key, long asOf)
    {
        lock (_lock)
        {
            if (_deployments.TryGetValue(key, out var recorded) && RecordedBy(recorded, asOf)) _deployments.Remove(key);
        }
    }

    /// <summary>
    /// Drops the deployments recorded at or before version <paramref name="asOf"/> that a whole read of the workloads
    /// taken after it (<paramref name="keys"/>) no longer has: a deleted deployment is never read again (lists and watches
    /// read only the listed ones), so its entry was kept for good. One recorded after <paramref name="asOf"/> may be newer
    /// than the read, and is kept.
    /// </summary>
    private void ForgetUnlisted(IReadOnlyList<string> keys, long asOf)
    {
        var listed = keys.ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var key in _deployments.Where(d => !listed.Contains(d.Key) && RecordedBy(d.Value, asOf)).Select(d => d.Key).ToList())
                _deployments.Remove(key);
        }
    }

    /// <summary>Whether a recorded deployment was recorded at or before version <paramref name="asOf"/>.</summary>
    private static bool RecordedBy((string Fingerprint, string Version) recorded, long asOf) => long.Parse(recorded.Version) <= asOf;

    /// <summary>
    /// A deployment's workload as its grain has it now, the deployment as served from it (rendered once: the rendering
    /// compared is the one answered, stamped with its version) and the resourceVersion that names that state; null when
    /// the workload does not exist.
    /// </summary>
    public async Task<(WorkloadView View, V1Deployment Deployment, string Version)?> ReadDeployment(string key, CancellationToken cancellation)
    {
        var grain = grains.Reference<IWorkloadGrain>(key);
        var read = await ReadRecorded(key, _deploymentGate, cancellation,
            read: () => grain.Get(),
            look: view => Compared(view, KubeDeploymentObjects.ToDeployment(view, ""),
                fingerprint => _deployments.TryGetValue(key, out var known) && known.Fingerprint == fingerprint ? known.Version : null),
            recorded: () => _deployments.ContainsKey(key),
            record: look =>
            {
                lock (_lock)
                {
                    var version = Interlocked.Increment(ref _version).ToString();
                    _deployments[key] = (look.Fingerprint, version);
                    return version;
                }
            },
            forget: () =>
            {
                lock (_lock) _deployments.Remove(key);
            });
        if (read is not { } found) return null;
        // Rendered for this read alone (nothing recorded keeps it), so it takes its version here.
        found.Served.Metadata.ResourceVersion = found.Version;
        return (found.View, found.Served, found.Version!);
    }
}
