namespace MasOrleans.Grains.Scheduling;

/// <summary>
/// Group commit for a reentrant grain's state: every caller that changed memory awaits a write that started after
/// its change, but all callers arriving while one write runs share the next one. A burst of N changes costs about
/// two writes instead of N, which matters when the state is large (the index's pod table). Single-threaded use only
/// (a grain's turns), so no locks.
/// </summary>
public sealed class GroupCommit(Func<Task> write)
{
    private TaskCompletionSource? _next;
    private Task? _writing;

    public Task Run()
    {
        _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var mine = _next.Task;
        // A loop whose write completed synchronously has finished before it could be stored: start another.
        if (_writing is not { IsCompleted: false }) _writing = WriteLoop();
        return mine;
    }

    private async Task WriteLoop()
    {
        while (_next is { } round)
        {
            // Changes made from here on belong to the next round: this write may not include them.
            _next = null;
            try
            {
                await write();
                round.SetResult();
            }
            catch (Exception e)
            {
                round.SetException(e);
            }
        }
    }
}
