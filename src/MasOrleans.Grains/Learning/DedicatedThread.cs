namespace MasOrleans.Grains.Learning;

/// <summary>
/// Runs long CPU work (a TorchSharp model's load or a training round: a second or more) on a thread of its own instead
/// of a pool worker. On a small machine the pool has about one worker per core, and it adds one only slowly, so work
/// holding a worker for seconds would leave the silo's requests, grains and Redis replies on the others, or on none.
/// </summary>
public static class DedicatedThread
{
    /// <summary>A thread of its own (long-running), on the default scheduler whatever <see cref="TaskScheduler.Current"/> is.</summary>
    private static readonly TaskFactory OwnThread = new(CancellationToken.None,
        TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskContinuationOptions.None, TaskScheduler.Default);

    /// <summary><paramref name="work"/> on a new thread; never on the caller's scheduler (a grain's).</summary>
    public static Task<T> Run<T>(Func<T> work) => OwnThread.StartNew(work);

    /// <inheritdoc cref="Run{T}(Func{T})"/>
    public static Task Run(Action work) => OwnThread.StartNew(work);
}
