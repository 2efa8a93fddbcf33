using System.Collections.Concurrent;
using System.Reflection;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The feed stops as its silo stops (SchedulingSiloService.Stop): the node changes it still holds, a reservation's
/// binding among them, are sent first, or said to be lost. The feed reads its views from an index the test answers.
/// </summary>
public sealed class ClusterFeedStopTests
{
    private static NodeChange Bound(string node) =>
        new(node, Guid.NewGuid(), 1, NodeChangeKind.PodBound, Bound: new BoundPod(PodOf($"{node}-pod"), GpuAllocation.None));

    /// <summary>
    /// Failed before: a change published just before the stop waited for the list of views, and the stop dropped it
    /// unsent and unsaid (the other views then offered the node's room again: conflicts until this silo was declared
    /// dead). The stop now waits for the changes it holds to be sent.
    /// </summary>
    [Fact]
    public async Task Changes_held_when_the_feed_stops_are_sent_first()
    {
        var view = new RecordingView();
        var index = HeldIndex.Create();
        var feed = new ClusterFeed(index.Factory, Logger(new SiloLog()));
        feed.Publish(Bound("fs-node"));
        await index.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stopped = feed.Stop(TimeSpan.FromSeconds(30));
        index.Answer([view]);
        await stopped;

        Assert.Equal(["fs-node"], view.Batches.SelectMany(b => b).Select(c => c.Node));
    }

    /// <summary>The views never listed within the stop's limit: the changes still held are dropped, and said to be (a Warning naming how many).</summary>
    [Fact]
    public async Task Changes_not_sent_within_the_stops_limit_are_said_to_be_lost()
    {
        var log = new SiloLog();
        var index = HeldIndex.Create();
        var feed = new ClusterFeed(index.Factory, Logger(log));
        feed.Publish(Bound("fs-lost-a"));
        feed.Publish(Bound("fs-lost-b"));
        await index.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await feed.Stop(TimeSpan.Zero);

        var warning = Assert.Single(log.Records, r => r.Level == LogLevel.Warning);
        Assert.Contains("2 node change(s)", warning.Message, StringComparison.Ordinal);
    }

    /// <summary>A view that, on each batch, has a node publish again (telemetry keeps coming while the silo stops).</summary>
    private sealed class BusyView : IClusterObserver
    {
        public ClusterFeed? Feed { get; set; }
        public int Batches;

        public Task NodesChanged(IReadOnlyList<NodeChange> changes)
        {
            Interlocked.Increment(ref Batches);
            Feed?.Publish(Bound($"fs-busy-{Batches}"));
            return Task.CompletedTask;
        }

        public Task NodesLatest(IReadOnlyList<NodeLatest> latest) => Task.CompletedTask;

        public Task DefaultPolicyChanged(string policy) => Task.CompletedTask;
    }

    /// <summary>
    /// Failed before: the stop waited for the sender to go quiet, and node grains publishing all along (each batch sent
    /// brings another change here) kept it busy until the limit, then a false Warning 1111. The stop now waits for the
    /// changes published when it began, however many follow.
    /// </summary>
    [Fact]
    public async Task Changes_published_after_the_stop_began_neither_hold_it_nor_make_it_warn()
    {
        var log = new SiloLog();
        var view = new BusyView();
        var index = HeldIndex.Create();
        var feed = new ClusterFeed(index.Factory, Logger(log));
        view.Feed = feed;
        feed.Publish(Bound("fs-busy-0"));
        await index.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stopped = feed.Stop(TimeSpan.FromSeconds(5));
        index.Answer([view]);
        await stopped;

        Assert.DoesNotContain(log.Records, r => r.Level >= LogLevel.Warning);
        Assert.True(view.Batches >= 1, "the change held when the stop began was sent");
    }

    /// <summary>
    /// Failed before: a failed sender's batch was never counted as handed over, so every later stop of the silo waited
    /// its whole limit for it and warned (1111) about a loss its Error 1105 had already reported. Its batch is counted
    /// as dropped now: the stop neither waits for it nor says it again.
    /// </summary>
    [Fact]
    public async Task Changes_a_failed_sender_dropped_neither_hold_the_stop_nor_are_said_lost_again()
    {
        var log = new SiloLog();
        var index = HeldIndex.Create();
        var feed = new ClusterFeed(index.Factory, Logger(log), BrokenMembership.Create());
        feed.Publish(Bound("fs-failed"));
        await index.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        index.Answer([new RecordingView()]);
        await WaitUntil(() => Task.FromResult(log.Records.Any(r => r.Level == LogLevel.Error)), "the sender's failure logged");

        await feed.Stop(TimeSpan.FromSeconds(10));

        var error = Assert.Single(log.Records, r => r.Level >= LogLevel.Warning);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.StartsWith("The node change sender failed", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Failed before: a change published while the sender ran, after it took its batch, waited for it; the sender then
    /// failed and ended, and the change stayed held with no sender until some node published again. A failed sender
    /// now leaves a sender for what is held. The membership here fails the sender's first read, after publishing a change.
    /// </summary>
    [Fact]
    public async Task A_change_published_while_a_sender_failed_is_sent_without_waiting_for_another()
    {
        var log = new SiloLog();
        var view = new RecordingView();
        var index = HeldIndex.Create();
        var membership = FailingOnceMembership.Create();
        var feed = new ClusterFeed(index.Factory, Logger(log), membership);
        ((FailingOnceMembership)(object)membership).First = () => feed.Publish(Bound("fs-meanwhile"));
        feed.Publish(Bound("fs-dropped"));
        await index.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        index.Answer([view]);

        await WaitUntil(() => Task.FromResult(view.Batches.SelectMany(b => b).Any(c => c.Node == "fs-meanwhile")), "the change published meanwhile sent");
        Assert.DoesNotContain(view.Batches.SelectMany(b => b), c => c.Node == "fs-dropped");
        Assert.Single(log.Records, r => r.Level == LogLevel.Error);
    }

    /// <summary>A membership whose first read runs <see cref="First"/> and throws; later reads give no snapshot.</summary>
    public class FailingOnceMembership : DispatchProxy
    {
        public Action First { get; set; } = () => { };
        private int _reads;

        public static IClusterMembershipService Create() => Create<IClusterMembershipService, FailingOnceMembership>();

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method?.Name != "get_" + nameof(IClusterMembershipService.CurrentSnapshot)) throw new NotSupportedException(method?.Name);
            if (Interlocked.Increment(ref _reads) == 1)
            {
                First();
                throw new InvalidOperationException("membership broken once by the test");
            }
            // No snapshot: the feed then sends to every view, as without a membership (a test's view is no silo's).
            return null;
        }
    }

    /// <summary>A membership whose every member throws: the sender fails as it reads it (a failure nothing else makes).</summary>
    public class BrokenMembership : DispatchProxy
    {
        public static IClusterMembershipService Create() => Create<IClusterMembershipService, BrokenMembership>();

        protected override object? Invoke(MethodInfo? method, object?[]? args) => throw new InvalidOperationException("membership broken by the test");
    }

    private static ILogger<ClusterFeed> Logger(SiloLog log) => new LoggerFactory([log]).CreateLogger<ClusterFeed>();

    /// <summary>A grain factory whose every grain is one cluster index, which answers Observers when the test says.</summary>
    public class HeldIndex : DispatchProxy
    {
        public TaskCompletionSource Asked { get; private set; } = null!;
        private TaskCompletionSource<IReadOnlyList<IClusterObserver>> _answer = null!;
        private object? _index;

        public IGrainFactory Factory { get; private set; } = null!;

        public static HeldIndex Create()
        {
            var factory = Create<IGrainFactory, HeldIndex>();
            var index = Create<IClusterIndexGrain, HeldIndex>();
            var held = (HeldIndex)(object)factory;
            held.Factory = factory;
            held._index = index;
            held.Asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            held._answer = new TaskCompletionSource<IReadOnlyList<IClusterObserver>>(TaskCreationOptions.RunContinuationsAsynchronously);
            var inner = (HeldIndex)index;
            inner.Asked = held.Asked;
            inner._answer = held._answer;
            return held;
        }

        public void Answer(IReadOnlyList<IClusterObserver> views) => _answer.SetResult(views);

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method?.Name == nameof(IClusterIndexGrain.Observers))
            {
                Asked.TrySetResult();
                return _answer.Task;
            }
            if (method?.Name.StartsWith("GetGrain", StringComparison.Ordinal) == true) return _index;
            throw new NotSupportedException(method?.Name);
        }
    }
}
