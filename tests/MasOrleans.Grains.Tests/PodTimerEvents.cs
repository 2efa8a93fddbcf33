using Orleans.Runtime.Diagnostics;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// Counts one pod's grain timer events (Orleans emits them for every grain of the process, GrainTimerEvents): Orleans
/// emits a timer's disposal before the end of the tick that disposes it.
/// </summary>
internal sealed class PodTimerEvents(string pod) : IObserver<GrainTimerEvents.TimerEvent>
{
    private int _created, _disposed, _ticksEnded;

    public int Created => Volatile.Read(ref _created);

    public int Disposed => Volatile.Read(ref _disposed);

    /// <summary>How many ticks of the pod's timers have ended (a tick that threw too).</summary>
    public int TicksEnded => Volatile.Read(ref _ticksEnded);

    public void OnNext(GrainTimerEvents.TimerEvent value)
    {
        if (value.GrainContext.GrainId.Type.ToString() != "mas-pod" || value.GrainContext.GrainId.Key.ToString() != pod) return;
        switch (value)
        {
            case GrainTimerEvents.Created:
                Interlocked.Increment(ref _created);
                break;
            case GrainTimerEvents.Disposed:
                Interlocked.Increment(ref _disposed);
                break;
            case GrainTimerEvents.TickStop:
                Interlocked.Increment(ref _ticksEnded);
                break;
        }
    }

    public void OnCompleted() { }

    /// <summary>Waits until <paramref name="count"/> ticks have ended, failing after 15 s or on an error of the event source.</summary>
    public Task WaitForTicks(int count) => GrainTestPods.WaitUntil(() =>
        _error is { } error ? throw new InvalidOperationException("the timer events failed", error) : Task.FromResult(TicksEnded >= count), $"{count} timer ticks of pod {pod} ended");

    private volatile Exception? _error;

    public void OnError(Exception error) => _error = error;
}
