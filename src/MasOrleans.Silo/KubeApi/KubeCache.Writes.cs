namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// One write at a time per object on this surface. A write reads the version it is held to (<see cref="ReadPod"/>,
/// <see cref="ReadDeployment"/>), checks the request's resourceVersion against it and then calls the grain: two writes
/// carrying the same, current version could both pass the check before either wrote. The API server checks it where
/// the write is serialized, inside the update GuaranteedUpdate retries until its compare-and-swap holds
/// (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, Store.Update: NewConflict with
/// OptimisticLockErrorMsg), so exactly one wins and the other is 409. A grain serializes its own calls but keeps no
/// resourceVersion (a version is this silo's name for a rendering of the grain's state), and a deployment's write may be
/// several grain calls (scale, annotations, progress deadline), so the check and the write are serialized here instead:
/// the loser reads the winner's state, at a new version, and is refused.
/// </summary>
internal sealed partial class KubeCache
{
    // "{resource}/{key}" → the object's gate and how many writes hold or wait for it (the entry goes with the last).
    private readonly Dictionary<string, (SemaphoreSlim Gate, int Writers)> _writeGates = [];

    /// <summary>
    /// Waits until no other write of this object is under way on this silo; the write runs (from its precondition read to
    /// its answer's read) until the returned hold is disposed.
    /// </summary>
    /// <param name="resource">As the API server names it: "pods", "deployments.apps" (a Scale is its deployment's).</param>
    public async Task<IDisposable> HoldWrites(string resource, string key, CancellationToken cancellation)
    {
        var name = $"{resource}/{key}";
        SemaphoreSlim gate;
        lock (_lock)
        {
            var (known, writers) = _writeGates.TryGetValue(name, out var entry) ? entry : (new SemaphoreSlim(1, 1), 0);
            _writeGates[name] = (known, writers + 1);
            gate = known;
        }
        try
        {
            await gate.WaitAsync(cancellation);
        }
        catch (OperationCanceledException)
        {
            LeaveWriteGate(name);
            throw;
        }
        return new Registration(() =>
        {
            gate.Release();
            LeaveWriteGate(name);
        });
    }

    private void LeaveWriteGate(string name)
    {
        lock (_lock)
        {
            var (gate, writers) = _writeGates[name];
            if (writers == 1) _writeGates.Remove(name);
            else _writeGates[name] = (gate, writers - 1);
        }
    }
}
