using System.Collections.Concurrent;
using System.Reflection;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The feed that carries node changes to every silo's view, with a recording view subscribed at the index: changes
/// published together reach a view together and in order, and the latest change of each recently changed node is
/// repeated on request.
/// </summary>
public sealed class ClusterFeedTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    private sealed class RecordingView : IClusterObserver
    {
        public ConcurrentQueue<IReadOnlyList<NodeChange>> Batches { get; } = new();
        public ConcurrentQueue<IReadOnlyList<NodeLatest>> Latest { get; } = new();

        public Task NodesChanged(IReadOnlyList<NodeChange> changes)
        {
            Batches.Enqueue(changes);
            return Task.CompletedTask;
        }

        public Task NodesLatest(IReadOnlyList<NodeLatest> latest)
        {
            Latest.Enqueue(latest);
            return Task.CompletedTask;
        }

        public Task DefaultPolicyChanged(string policy) => Task.CompletedTask;
    }

    private static NodeChange Change(string node, Guid incarnation, long seq) =>
        new(node, incarnation, seq, NodeChangeKind.PodBound, Bound: new BoundPod(PodOf($"{node}-pod-{seq}"), GpuAllocation.None));

    [Fact]
    public async Task Changes_reach_a_view_in_order_in_few_messages_and_the_latest_of_each_node_is_repeated()
    {
        var recorder = new RecordingView();
        var reference = fixture.Client.CreateObjectReference<IClusterObserver>(recorder);
        await fixture.Client.Reference<IClusterIndexGrain>(ClusterIndex.Key).Subscribe(reference);
        var feed = new ClusterFeed(fixture.Client, NullLogger<ClusterFeed>.Instance);
        await feed.EnsureFresh();

        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        const int perNode = 50;
        for (var seq = 1; seq <= perNode; seq++)
        {
            feed.Publish(Change("feed-a", a, seq));
            feed.Publish(Change("feed-b", b, seq));
        }
        await WaitUntil(() => Task.FromResult(recorder.Batches.Sum(batch => batch.Count) >= 2 * perNode), "every change at the recording view");
        var received = recorder.Batches.SelectMany(batch => batch).ToList();
        Assert.Equal(2 * perNode, received.Count);
        // Changes published while a send is pending share its message: fewer messages than changes (one per change
        // was the old feed). How few depends on the thread pool, so no tighter bound.
        Assert.True(recorder.Batches.Count < received.Count, $"{recorder.Batches.Count} messages for {received.Count} changes");
        // Each change exactly once; within a message, each node's changes in the order they were published (messages
        // themselves may arrive out of order: the view orders them by number).
        foreach (var node in new[] { "feed-a", "feed-b" })
        {
            Assert.Equal(Enumerable.Range(1, perNode).Select(i => (long)i), received.Where(c => c.Node == node).Select(c => c.Seq).Order());
            foreach (var batch in recorder.Batches)
            {
                var seqs = batch.Where(c => c.Node == node).Select(c => c.Seq).ToList();
                Assert.Equal(seqs.Order(), seqs);
            }
        }

        await feed.SendLatest();
        await WaitUntil(() => Task.FromResult(!recorder.Latest.IsEmpty), "the latest changes at the recording view");
        var latest = recorder.Latest.Single().OrderBy(l => l.Node, StringComparer.Ordinal).ToList();
        Assert.Equal([new NodeLatest("feed-a", a, perNode), new NodeLatest("feed-b", b, perNode)], latest);
    }

    /// <summary>
    /// Failed before: a caller that found a refresh under way let go of the feed's lock and then read the refresh
    /// from the field, which the refresh's end (on another thread: the index's answer) may have cleared meanwhile:
    /// EnsureFresh threw ArgumentNullException. Its node grain had numbered a change it then never sent, so the views
    /// missed the change (the last one of a node stays missed: no later number shows the gap). Here every refresh
    /// fails on the thread pool, as while the index does not answer, so each call finds one under way or starts one.
    /// </summary>
    [Fact]
    public async Task Callers_racing_the_end_of_a_refresh_never_throw()
    {
        var feed = new ClusterFeed(UnansweringIndex.Factory(), NullLogger<ClusterFeed>.Instance);
        const int callers = 8, calls = 3_000_000;
        var failures = new ConcurrentQueue<Exception>();
        // Not awaited: a caller comes back at once, so many calls meet each refresh's end.
        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(() =>
        {
            for (var i = 0; i < calls && failures.IsEmpty; i++)
            {
                try
                {
                    _ = feed.EnsureFresh().AsTask();
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            }
        })));
        Assert.True(failures.IsEmpty, $"{failures.Count} call(s) threw; first: {failures.FirstOrDefault()}");
    }

    /// <summary>A grain factory whose every grain is a cluster index that answers Observers with a failure, on the thread pool.</summary>
    public class UnansweringIndex : DispatchProxy
    {
        public static IGrainFactory Factory() => Create<IGrainFactory, UnansweringIndex>();

        protected override object? Invoke(MethodInfo? method, object?[]? args) => method?.Name switch
        {
            nameof(IClusterIndexGrain.Observers) => Task.Run(NoAnswer),
            _ when method?.Name.StartsWith("GetGrain", StringComparison.Ordinal) == true => Create<IClusterIndexGrain, UnansweringIndex>(),
            _ => throw new NotSupportedException(method?.Name),
        };

        private static IReadOnlyList<IClusterObserver> NoAnswer() => throw new TimeoutException("the index does not answer (test)");
    }
}
