using k8s;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// Deployments' resourceVersions: a workload grain keeps none, so a deployment is given one as a pod read through
/// <see cref="ReadPod"/> is: the state a read finds is compared with the one last recorded, and a new state takes the
/// next version of the silo's counter. A GET, a listing and a write's answer then serve the same version for the same
/// state, and a write's precondition is held to it. Deployments are watched by polling (<see cref="KubePolledWatch"/>),
/// not from the change history, so nothing is published.
/// </summary>
internal sealed partial class KubeCache
{
    // Workload key → the fingerprint of the deployment as last recorded, and its version.
    private readonly Dictionary<string, (string Fingerprint, string Version)> _deployments = [];
    // Orders the recording of deployments' new states, apart from the pods' gate so no pod listing stalls a deployment read.
    private readonly SemaphoreSlim _deploymentGate = new(1, 1);

    /// <summary>
    /// A deployment's workload as its grain has it now, with the resourceVersion that names that state; null when the
    /// workload does not exist. A state already recorded is answered under the lock alone; a new one, or none, takes the
    /// gate and is read again there, so two reads never record an older state after a newer one, and a deployment found
    /// gone is forgotten only as of a read under the gate (outside it, a delete and re-create meanwhile could have its
    /// new version recorded, and erased).
    /// </summary>
    public async Task<(WorkloadView View, string Version)?> ReadDeployment(string key, CancellationToken cancellation)
    {
        var grain = grains.Reference<IWorkloadGrain>(key);
        if (await grain.Get() is { } first)
        {
            var fingerprint = Fingerprint(first);
            lock (_lock)
            {
                if (_deployments.TryGetValue(key, out var known) && known.Fingerprint == fingerprint) return (first, known.Version);
            }
        }
        else
        {
            // Nothing recorded, nothing to forget: no gate for a name that never was a deployment here.
            lock (_lock)
            {
                if (!_deployments.ContainsKey(key)) return null;
            }
        }
        await _deploymentGate.WaitAsync(cancellation);
        try
        {
            if (await Limited(grain.Get(), key) is not { } view) return Forgotten(key);
            var now = Fingerprint(view);
            lock (_lock)
            {
                if (_deployments.TryGetValue(key, out var known) && known.Fingerprint == now) return (view, known.Version);
                var version = Interlocked.Increment(ref _version).ToString();
                _deployments[key] = (now, version);
                return (view, version);
            }
        }
        finally
        {
            _deploymentGate.Release();
        }
    }

    private (WorkloadView, string)? Forgotten(string key)
    {
        lock (_lock) _deployments.Remove(key);
        return null;
    }

    private static string Fingerprint(WorkloadView view) => KubernetesJson.Serialize(KubeDeploymentObjects.ToDeployment(view, ""));
}
