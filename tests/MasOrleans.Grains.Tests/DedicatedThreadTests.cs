using MasOrleans.Grains.Learning;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// Model loads and training rounds run on threads of their own: on two cores the silo's pool has about two workers, so
/// a second of TorchSharp work on a worker would take half of them.
/// </summary>
public sealed class DedicatedThreadTests
{
    [Fact]
    public async Task Work_runs_on_a_thread_outside_the_pool_and_outside_the_callers_scheduler()
    {
        // A caller on a scheduler of its own, as a grain's turn is: the work must not run there either.
        var exclusive = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        var (onPool, scheduler, value) = await Task.Factory.StartNew(async () =>
        {
            Assert.Same(exclusive, TaskScheduler.Current);
            return await DedicatedThread.Run(() => (Thread.CurrentThread.IsThreadPoolThread, TaskScheduler.Current, 42));
        }, CancellationToken.None, TaskCreationOptions.None, exclusive).Unwrap();

        Assert.False(onPool);
        Assert.Same(TaskScheduler.Default, scheduler);
        Assert.Equal(42, value);

        var ranOnPool = true;
        await DedicatedThread.Run(() => { ranOnPool = Thread.CurrentThread.IsThreadPoolThread; });
        Assert.False(ranOnPool);
    }

    [Fact]
    public async Task A_failure_reaches_the_caller()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => DedicatedThread.Run<int>(() => throw new InvalidOperationException("bad model")));
        Assert.Equal("bad model", failure.Message);
    }
}
