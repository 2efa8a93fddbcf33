using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Grains.Scheduling;

/// <summary>The shard's cycles as tasks: counted from start to end, so a stopping silo's <see cref="Drain"/> waits for every one.</summary>
public sealed partial class SchedulingQueueGrain
{
    /// <summary>
    /// Waits for the cycles' tasks themselves, not the in-flight window: a pod's removal and the sweep take a cycle out of
    /// the window while it still runs, and may still reserve (Pump starts no more once the silo stops).
    /// </summary>
    public async Task Drain()
    {
        if (_running == 0) return;
        _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            // Reentrant: the cycles' continuations run on this grain's turns while this waits.
            await _idle.Task.WaitAsync(DrainLimit);
        }
        catch (TimeoutException)
        {
            LogDrainCutShort(logger, Shard, _running, DrainLimit);
        }
    }

    /// <summary>How long a stop waits for a shard's cycles (each takes milliseconds when nothing is wrong); the stop's budget is SchedulingSiloService's.</summary>
    private static TimeSpan DrainLimit => SchedulingSiloService.ShardDrainLimit;

    /// <summary>Cycles whose task has not ended, in the window or taken out of it (<see cref="Remove"/>, <see cref="Sweep"/>).</summary>
    private int _running;

    /// <summary>Completed when <see cref="_running"/> comes to zero while a <see cref="Drain"/> waits.</summary>
    private TaskCompletionSource? _idle;

    private async Task Run(PodSpec pod, InFlightCycle cycle)
    {
        _running++;
        try
        {
            await Schedule(pod, cycle);
        }
        finally
        {
            if (--_running == 0 && _idle is not null)
            {
                _idle.TrySetResult();
                _idle = null;
            }
        }
    }

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "Queue shard {Shard} stops draining with {Running} scheduling cycle(s) still running after {Limit}; what they reserve from now on may be missed by the nodes' next activations")]
    private static partial void LogDrainCutShort(ILogger logger, int shard, int running, TimeSpan limit);
}
