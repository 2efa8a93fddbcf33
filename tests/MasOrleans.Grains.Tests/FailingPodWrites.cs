using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Pods;
using Orleans.Runtime;
using Orleans.Storage;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// Grain storage over the default one that fails a pod's writes of the states a test picks, as Redis
/// gone for a moment would: every such write (<see cref="Fail"/>), or only the next one (<see cref="FailNext"/>); or the
/// removal of the record of a pod it picks, its deletion (<see cref="FailDeletes"/>). Keeps the state each pod last wrote,
/// the pod grain's own object (<see cref="LastWritten"/>), and the phase of each state it wrote (<see cref="PhasesWritten"/>).
/// </summary>
public sealed class FailingPodWrites : IFailingWrites
{
    private volatile Func<PodState, bool>? _failWhen;
    private volatile bool _once;
    private volatile bool _deletes;
    private string _what = "";
    private int _failed;

    /// <summary>Fails every write of a pod state <paramref name="when"/> picks (as "the pod's <paramref name="what"/> write failed") until <see cref="Stop"/>.</summary>
    public void Fail(Func<PodState, bool> when, string what) => Arm(when, what, once: false, deletes: false);

    /// <summary>Fails the next write of a pod state <paramref name="when"/> picks, and no later one.</summary>
    public void FailNext(Func<PodState, bool> when, string what) => Arm(when, what, once: true, deletes: false);

    /// <summary>Fails every deletion of a pod <paramref name="when"/> picks (its record's removal; writes go on) until <see cref="Stop"/>.</summary>
    public void FailDeletes(Func<PodState, bool> when, string what) => Arm(when, what, once: false, deletes: true);

    public void Stop() => _failWhen = null;

    /// <summary>A pod's state as the next activation reads it, changed as an older version would have stored it; none when null.</summary>
    public volatile Func<PodState, PodState>? ReadAs;

    /// <summary>Whether a failure asked for has not happened yet (<see cref="FailNext"/>) or still goes on (<see cref="Fail"/>).</summary>
    public bool Armed => _failWhen is not null;

    private void Arm(Func<PodState, bool> when, string what, bool once, bool deletes)
    {
        _what = what;
        _once = once;
        _deletes = deletes;
        _failWhen = when;
    }

    private void FailIfPicked(object? state, bool deleting)
    {
        if (state is not PodState pod || deleting != _deletes || _failWhen is not { } failWhen || !failWhen(pod)) return;
        if (_once) _failWhen = null;
        Interlocked.Increment(ref _failed);
        throw new InvalidOperationException($"the pod's {_what} write failed (test)");
    }

    public int Failed => Volatile.Read(ref _failed);

    private readonly ConcurrentDictionary<string, PodState> _written = new();

    /// <summary>The state the pod last wrote (a write that failed too): the grain's own object, not a copy.</summary>
    public PodState? LastWritten(string pod) => _written.GetValueOrDefault(pod);

    private readonly ConcurrentDictionary<string, ConcurrentQueue<PodPhase>> _phases = new();

    /// <summary>The phase of every state the pod wrote, in order (failed writes too): what its listings and reads could show.</summary>
    public IReadOnlyList<PodPhase> PhasesWritten(string pod) => _phases.TryGetValue(pod, out var phases) ? phases.ToList() : [];

    public IGrainStorage Over(IGrainStorage inner) => new Storage(this, inner);

    private sealed class Storage(FailingPodWrites owner, IGrainStorage inner) : IGrainStorage
    {
        public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await inner.ReadStateAsync(stateName, grainId, grainState);
            if (grainState.State is PodState pod && owner.ReadAs is { } readAs) grainState.State = (T)(object)readAs(pod);
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (grainState.State is PodState pod)
            {
                owner._written[grainId.Key.ToString()!] = pod;
                owner._phases.GetOrAdd(grainId.Key.ToString()!, _ => new ConcurrentQueue<PodPhase>()).Enqueue(pod.Phase);
            }
            owner.FailIfPicked(grainState.State, deleting: false);
            return inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            owner.FailIfPicked(grainState.State, deleting: true);
            return inner.ClearStateAsync(stateName, grainId, grainState);
        }
    }
}
