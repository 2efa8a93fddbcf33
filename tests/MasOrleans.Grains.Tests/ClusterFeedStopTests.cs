using System.Collections.Concurrent;
using System.Reflection;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The feed stops as its silo stops (SchedulingSiloService.Stop): the node changes it still holds, a reservation's
/// binding among them, are sent first, or said to be lost. The feed reads its views from an index the test answers.
/// </summary>
public sealed class ClusterFeedStopTests
{
    private sealed class RecordingView : IClusterObserver
    {
        public ConcurrentQueue<IReadOnlyList<NodeChange>> Batches { get; } = new();

        public Task NodesChanged(IReadOnlyList<NodeChange> changes)
        {
            Batches.Enqueue(changes);
            return Task.CompletedTask;
        }

        public Task NodesLatest(IReadOnlyList<NodeLatest> latest) => Task.CompletedTask;

        public Task DefaultPolicyChanged(string policy) => Task.CompletedTask;
    }

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
