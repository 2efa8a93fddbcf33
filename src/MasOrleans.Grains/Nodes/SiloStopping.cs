namespace MasOrleans.Grains.Nodes;

/// <summary>
/// This silo has begun a graceful stop (set before the cluster hears of it, so before another silo may activate this
/// silo's grains afresh). Orleans' directory then lets a node grain's next activation start on another silo, from Redis,
/// while this one still answers: a reservation stored here after that read was missing from the new activation, which
/// then listed a bound pod as not there and could give its room away. So this silo's node grains store no more
/// reservations (<see cref="NodeGrain"/>), and the stop waits for the reservation writes already under way
/// (<see cref="WritesSettled"/>) before the cluster hears of it.
/// </summary>
public sealed class SiloStopping
{
    private readonly Lock _lock = new();
    private bool _stopping;
    private int _writes;
    private TaskCompletionSource? _settled;

    public void Begin()
    {
        lock (_lock) _stopping = true;
    }

    /// <summary>
    /// A node grain's reservation write (a binding stored, or the node's bindings written again) may start: false once
    /// the stop began. Each true is paired with <see cref="EndWrite"/>. Checked and counted under one lock with
    /// <see cref="Begin"/>, so no write starts unseen by <see cref="WritesSettled"/>.
    /// </summary>
    public bool TryBeginWrite()
    {
        lock (_lock)
        {
            if (_stopping) return false;
            _writes++;
            return true;
        }
    }

    public void EndWrite()
    {
        lock (_lock)
        {
            if (--_writes > 0) return;
            _settled?.TrySetResult();
            _settled = null;
        }
    }

    /// <summary>Completes once no reservation write is under way; after <see cref="Begin"/>, none starts again.</summary>
    public Task WritesSettled()
    {
        lock (_lock)
        {
            if (_writes == 0) return Task.CompletedTask;
            _settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _settled.Task;
        }
    }
}
