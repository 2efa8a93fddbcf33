using System.Globalization;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// One write at a time per object on this surface. A write reads the version it is held to (<see cref="KubeCache.ReadPod"/>,
/// <see cref="KubeCache.ReadNode"/>, <see cref="KubeCache.ReadDeployment"/>), checks the request's resourceVersion against it and then calls the grain: two writes
/// carrying the same, current version could both pass the check before either wrote. The API server checks it where
/// the write is serialized, inside the update GuaranteedUpdate retries until its compare-and-swap holds
/// (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, Store.Update: NewConflict with
/// OptimisticLockErrorMsg), so exactly one wins and the other is 409. A grain serializes its own calls but keeps no
/// resourceVersion (a version is this silo's name for a rendering of the grain's state), and a deployment's write may be
/// several grain calls (scale, annotations, progress deadline), so the check and the write are serialized here instead:
/// the loser reads the winner's state, at a new version, and is refused.
/// </summary>
/// <param name="limit">
/// The longest a write waits for the one before it, as long as a call under the cache's gate may take
/// (<see cref="KubeCache.GateCallLimit"/>): the holder may be in a grain call that does not answer, and a waiter held
/// without limit would hold its request, and every later write of the object, with it. Outliving it is a
/// <see cref="KubeGateTimeoutException"/>, a 503 Status (<see cref="KubeUnavailable"/>).
/// </param>
internal sealed class KubeWriteGates(TimeSpan limit)
{
    private readonly object _lock = new();
    // "{resource}/{key}" → the object's gate and how many writes hold or wait for it (the entry goes with the last).
    private readonly Dictionary<string, (SemaphoreSlim Gate, int Writers)> _gates = [];

    /// <summary>Objects with a write holding or waiting for their gate.</summary>
    public int Count { get { lock (_lock) return _gates.Count; } }

    /// <summary>The writes holding or waiting for one object's gate (<see cref="Hold"/>'s names).</summary>
    public int Writers(string resource, string key)
    {
        lock (_lock) return _gates.TryGetValue($"{resource}/{key}", out var entry) ? entry.Writers : 0;
    }

    /// <summary>
    /// Waits until no other write of this object is under way on this silo; the write runs (from its precondition read to
    /// its answer's read) until the returned hold is disposed.
    /// </summary>
    /// <param name="resource">As the API server names it: "pods", "nodes", "deployments.apps" (a Scale is its deployment's).</param>
    /// <exception cref="KubeGateTimeoutException">The write before it held the object longer than the limit.</exception>
    public async Task<IDisposable> Hold(string resource, string key, CancellationToken cancellation)
    {
        var name = $"{resource}/{key}";
        SemaphoreSlim gate;
        lock (_lock)
        {
            var (known, writers) = _gates.TryGetValue(name, out var entry) ? entry : (new SemaphoreSlim(1, 1), 0);
            _gates[name] = (known, writers + 1);
            gate = known;
        }
        bool entered;
        try
        {
            entered = await gate.WaitAsync(limit, cancellation);
        }
        catch (OperationCanceledException)
        {
            Leave(name);
            throw;
        }
        if (!entered)
        {
            Leave(name);
            throw new KubeGateTimeoutException($"an earlier write of {resource} \"{key}\" did not finish within {limit.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        return new KubeCache.Registration(() =>
        {
            gate.Release();
            Leave(name);
        });
    }

    private void Leave(string name)
    {
        lock (_lock)
        {
            var (gate, writers) = _gates[name];
            if (writers == 1) _gates.Remove(name);
            else _gates[name] = (gate, writers - 1);
        }
    }
}
