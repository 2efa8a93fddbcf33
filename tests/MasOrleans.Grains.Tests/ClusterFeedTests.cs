using System.Collections.Concurrent;
using System.Reflection;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Orleans.TestingHost;
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

/// <summary>
/// The feed and a view on a silo shown stopping, on a cluster of its own: the index lists a view until its 10 s expiry,
/// and a view object on a silo collected after its test makes that silo log a Warning for each later send.
/// </summary>
public sealed class ClusterFeedStoppingSiloTests : OwnClusterTest
{
    private static NodeChange Change(string node, Guid incarnation, long seq) =>
        new(node, incarnation, seq, NodeChangeKind.PodBound, Bound: new BoundPod(PodOf($"{node}-pod-{seq}"), GpuAllocation.None));

    /// <summary>
    /// Failed before: a view whose silo was stopping or stopped was still sent every change until the index had left it
    /// out for 10 s, and each send was an Orleans Error on the silo that stayed (no client for the gone silo's view).
    /// The view made on the silo is sent changes while its silo is active and none once the membership shows it
    /// shutting down; a view the test's client holds (on no silo) gets them all, so the sends did happen.
    /// </summary>
    [Fact]
    public async Task A_view_on_a_silo_shown_stopping_is_sent_no_more_changes()
    {
        var silo = Cluster.Silos[0].SiloAddress;
        var onSilo = new RecordingView();
        var siloReference = Cluster.GetSiloServiceProvider(silo).GetRequiredService<IGrainFactory>().CreateObjectReference<IClusterObserver>(onSilo);
        Assert.Equal(silo, SiloHostedObserver.SiloOf(siloReference));
        var onClient = new RecordingView();
        var clientReference = Cluster.Client.CreateObjectReference<IClusterObserver>(onClient);
        Assert.Null(SiloHostedObserver.SiloOf(clientReference));
        var index = Cluster.Client.Reference<IClusterIndexGrain>(ClusterIndex.Key);
        await index.Subscribe(siloReference);
        await index.Subscribe(clientReference);
        var membership = new SettableMembership();
        membership.Set(silo, SiloStatus.Active);
        var feed = new ClusterFeed(Cluster.Client, NullLogger<ClusterFeed>.Instance, membership);
        await feed.EnsureFresh();
        var incarnation = Guid.NewGuid();
        bool Got(RecordingView view, long seq) => view.Batches.SelectMany(b => b).Any(c => c.Node == "feed-stopping" && c.Seq == seq);

        feed.Publish(Change("feed-stopping", incarnation, 1));
        await WaitUntil(() => Task.FromResult(Got(onSilo, 1) && Got(onClient, 1)), "the first change at both views");

        membership.Set(silo, SiloStatus.ShuttingDown);
        feed.Publish(Change("feed-stopping", incarnation, 2));
        await WaitUntil(() => Task.FromResult(Got(onClient, 2)), "the second change at the client's view");
        // Active again (as a test can say): the third change reaches the silo's view, sent after the second was not.
        membership.Set(silo, SiloStatus.Active);
        feed.Publish(Change("feed-stopping", incarnation, 3));
        await WaitUntil(() => Task.FromResult(Got(onSilo, 3)), "the third change at the silo's view");
        Assert.False(Got(onSilo, 2), "the view on the silo shown shutting down was sent a change");
        GC.KeepAlive(onSilo);
        GC.KeepAlive(onClient);
    }
}
