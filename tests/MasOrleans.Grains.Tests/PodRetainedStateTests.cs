using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Pods;
using Orleans.Runtime.Diagnostics;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// What a Running pod keeps in its silo's memory (scripts/pod-heap.sh measures it per type): every pod keeps it until
/// it is deleted, and each garbage collection promotes what the pods placed since the last one keep.
/// </summary>
public sealed class PodRetainedStateTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    private IGrainFactory Grains => fixture.Client;

    /// <summary>
    /// An Orleans timer stays registered after its one tick until disposed, holding its callback, runtime timer and
    /// cancellation source: the container start's timer is disposed within its tick, so a pod with no planned exit keeps
    /// none. Orleans emits a timer's disposal before the end of the tick that disposes it (GrainTimerEvents).
    /// </summary>
    [Fact]
    public async Task A_running_pod_without_a_planned_exit_keeps_no_timer()
    {
        var timers = new PodTimers("kept-1");
        using (GrainTimerEvents.AllEvents.Subscribe(timers))
        {
            await Grains.GetGrain<INodeGrain>("g-kept").Register(NodeSpecOf("g-kept"));
            await Grains.GetGrain<IPodGrain>("kept-1").Create(PodOf("kept-1"), null);
            await WaitForPod(Grains, "kept-1", p => p.Phase == PodPhase.Running);
            await timers.TickEnded.Task.WaitAsync(TimeSpan.FromSeconds(15));
        }
        Assert.Equal(1, timers.Created);
        Assert.Equal(timers.Created, timers.Disposed);
    }

    /// <summary>A pod of the cluster default policy (most name none) records the same Created message as every other, not a copy.</summary>
    [Fact]
    public void The_default_policys_created_message_is_one_string_for_every_pod()
    {
        Assert.Equal("pod accepted; waiting for policy '(cluster default)'", PodGrain.AcceptedMessage(null));
        Assert.Same(PodGrain.AcceptedMessage(null), PodGrain.AcceptedMessage(null));
        Assert.Equal("pod accepted; waiting for policy 'binpack'", PodGrain.AcceptedMessage("binpack"));
    }

    /// <summary>Counts one pod's timer events (Orleans emits them for every grain of the process).</summary>
    private sealed class PodTimers(string pod) : IObserver<GrainTimerEvents.TimerEvent>
    {
        private int _created, _disposed;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        /// <summary>Completed when a tick of one of the pod's timers has ended.</summary>
        public TaskCompletionSource TickEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnNext(GrainTimerEvents.TimerEvent value)
        {
            if (value.GrainContext.GrainId.Type.ToString() != "mas-pod" || value.GrainContext.GrainId.Key.ToString() != pod) return;
            switch (value)
            {
                case GrainTimerEvents.Created:
                    Interlocked.Increment(ref _created);
                    break;
                case GrainTimerEvents.Disposed:
                    Interlocked.Increment(ref _disposed);
                    break;
                case GrainTimerEvents.TickStop:
                    TickEnded.TrySetResult();
                    break;
            }
        }

        public void OnCompleted() { }

        public void OnError(Exception error) => TickEnded.TrySetException(error);
    }
}
