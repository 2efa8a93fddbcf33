using System.Collections.Concurrent;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using Orleans.Runtime;
using MasOrleans.Scheduling.Policies;
using Microsoft.Extensions.Logging.Abstractions;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A write's read-back into the view (<see cref="SiloClusterView.ReadAfterWrite"/>, a /k8s node write's before its gate
/// opens): it waits for a read that started after it, and fails with a read that failed. Before (a review of session 39's
/// node writes), it was <see cref="SiloClusterView.Resync(string)"/>, which returned at once when a read was under way and
/// swallowed a failed one (logged, retried in the background): the gate opened on a view that could predate the write,
/// and a second write at the old version passed its precondition.
/// </summary>
public sealed class ClusterViewReadAfterWriteTests
{
    private static readonly Guid Incarnation = Guid.NewGuid();

    /// <summary>The node grain's answers, one per read, in order; each read takes the next.</summary>
    private readonly ConcurrentQueue<Func<Task<NodeView?>>> _answers = new();
    private int _reads;

    private SiloClusterView View() =>
        new(Stand.In<IGrainFactory>((method, _) => method.Name.StartsWith("GetGrain", StringComparison.Ordinal)
                ? Stand.In<INodeGrain>((m, _) => m.Name == nameof(INodeGrain.GetView) ? Read() : throw new NotSupportedException(m.Name))
                : throw new NotSupportedException(method.Name)),
            PolicyCatalog.CreateDefault(), NullLogger<SiloClusterView>.Instance);

    private Task<NodeView?> Read()
    {
        Interlocked.Increment(ref _reads);
        return _answers.TryDequeue(out var answer) ? answer() : throw new InvalidOperationException("no read expected");
    }

    private static NodeView At(long seq) =>
        new(NodeSpecOf("rw-1"), true, [], new Dictionary<string, double>(), null, [], false, Incarnation, seq);

    [Fact]
    public async Task A_read_under_way_when_the_write_is_answered_does_not_complete_the_read_back()
    {
        var before = new TaskCompletionSource<NodeView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _answers.Enqueue(() => before.Task);
        _answers.Enqueue(() => Task.FromResult<NodeView?>(At(2)));
        var view = View();
        var underWay = view.Resync("rw-1");

        var written = view.ReadAfterWrite("rw-1");
        // The read under way started before the write: it cannot answer for it.
        Assert.False(written.IsCompleted);

        before.SetResult(At(1));
        await underWay.WaitAsync(TimeSpan.FromSeconds(10));
        await written.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, _reads);
        Assert.Equal(2, view.Node("rw-1")!.Seq);
    }

    [Fact]
    public async Task A_failed_read_back_fails_the_write_with_the_reads_error()
    {
        _answers.Enqueue(() => Task.FromException<NodeView?>(new TimeoutException("node grain did not answer (test)")));
        // The view's own retry, a second later, in the background.
        _answers.Enqueue(() => Task.FromResult<NodeView?>(At(1)));
        var view = View();

        var failed = await Assert.ThrowsAsync<TimeoutException>(() => view.ReadAfterWrite("rw-1").WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("node grain did not answer (test)", failed.Message);
    }

    /// <summary>
    /// The silo's stop: a read-back queued behind a read under way (which may never answer: Orleans is closing its
    /// messaging) fails when the stop comes, and one asked after the stop fails at once; neither waits on a read.
    /// </summary>
    [Fact]
    public async Task Read_backs_fail_when_the_silo_stops_and_none_waits_on_a_read_that_does_not_answer()
    {
        var neverAnswered = new TaskCompletionSource<NodeView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _answers.Enqueue(() => neverAnswered.Task);
        var view = View();
        _ = view.Resync("rw-1");
        var queued = view.ReadAfterWrite("rw-1");
        Assert.False(queued.IsCompleted);

        view.Stop();

        await Assert.ThrowsAsync<OrleansException>(() => queued.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<OrleansException>(() => view.ReadAfterWrite("rw-1").WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, _reads);
    }
}
