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
    // "{resource}/{key}" → the object's gate (the entry goes with the last write that named it).
    private readonly Dictionary<string, Entry> _gates = [];

    /// <param name="Named">The writes that named the object, from before they wait: the entry's lifetime.</param>
    /// <param name="Queued">Those holding the gate or queued on it (their WaitAsync made).</param>
    private sealed class Entry
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public int Named;
        public int Queued;
    }

    /// <summary>Objects with a write holding or waiting for their gate.</summary>
    public int Count { get { lock (_lock) return _gates.Count; } }

    /// <summary>
    /// For tests: the writes holding one object's gate or queued on it (<see cref="Hold"/>'s names). A write is counted
    /// once its wait is queued, not when it names the object: a write counted before it queued could be overtaken by
    /// one that came after it (the gate is first come, first served among those queued).
    /// </summary>
    public int Writers(string resource, string key)
    {
        lock (_lock) return _gates.TryGetValue($"{resource}/{key}", out var entry) ? entry.Queued : 0;
    }

    /// <summary>
    /// Waits until no other write of this object is under way on this silo; the write (its precondition read, its grain
    /// calls and, for most, the read its answer is made from) runs until the returned hold is disposed. A /k8s pod DELETE
    /// holds it for each of PodDeletion's asks, from its read to its delete's answer: its read after the deletion (the
    /// cache's drop of the pod) is outside it.
    /// </summary>
    /// <param name="resource">As the API server names it: "pods", "nodes", "deployments.apps" (a Scale is its deployment's).</param>
    /// <exception cref="KubeGateTimeoutException">The write before it held the object longer than the limit.</exception>
    public async Task<IDisposable> Hold(string resource, string key, CancellationToken cancellation)
    {
        var name = $"{resource}/{key}";
        Entry entry;
        lock (_lock)
        {
            if (!_gates.TryGetValue(name, out entry!)) _gates[name] = entry = new Entry();
            entry.Named++;
        }
        var waiting = entry.Gate.WaitAsync(limit, cancellation);
        lock (_lock) entry.Queued++;
        bool entered;
        try
        {
            entered = await waiting;
        }
        catch (OperationCanceledException)
        {
            Leave(name, entry);
            throw;
        }
        if (!entered)
        {
            Leave(name, entry);
            throw new KubeGateTimeoutException($"an earlier write of {resource} \"{key}\" did not finish within {limit.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        return new KubeCache.Registration(() =>
        {
            entry.Gate.Release();
            Leave(name, entry);
        });
    }

    private void Leave(string name, Entry entry)
    {
        lock (_lock)
        {
            entry.Queued--;
            if (--entry.Named == 0) _gates.Remove(name);
        }
    }
}
