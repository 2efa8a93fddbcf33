using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Orleans.Runtime.Diagnostics;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// What a Running pod keeps in its silo's memory (scripts/pod-heap.sh measures it per type): every pod keeps it until
/// it is deleted, and each garbage collection promotes what the pods placed since the last one keep. A cluster of its
/// own per test: its storage fails the writes a test picks and shows the states the pods wrote.
/// </summary>
public sealed class PodRetainedStateTests : FailingWritesClusterTest<FailingPodWrites>
{
    private IGrainFactory Grains => Cluster.Client;

    /// <summary>
    /// An Orleans timer stays registered after its one tick until disposed, holding its callback, runtime timer and
    /// cancellation source: the container start's timer is disposed within its tick, so a pod with no planned exit keeps
    /// none.
    /// </summary>
    [Fact]
    public async Task A_running_pod_without_a_planned_exit_keeps_no_timer()
    {
        var timers = new PodTimerEvents("kept-1");
        using (GrainTimerEvents.AllEvents.Subscribe(timers))
        {
            await Grains.GetGrain<INodeGrain>("g-kept").Register(NodeSpecOf("g-kept"));
            await Grains.GetGrain<IPodGrain>("kept-1").Create(PodOf("kept-1"), null);
            await WaitForPod(Grains, "kept-1", p => p.Phase == PodPhase.Running);
            await timers.WaitForTicks(1);
        }
        Assert.Equal(1, timers.Created);
        Assert.Equal(timers.Created, timers.Disposed);
    }

    /// <summary>
    /// A start whose Running write fails is retried by a second timer of the same activation: both are disposed, the
    /// first by its own tick (which registered the second), the second by its.
    /// </summary>
    [Fact]
    public async Task A_start_retried_after_a_failed_running_write_keeps_neither_timer()
    {
        Log.Expect("mas-pod/kept-retried");
        Log.Expect("the pod's Running write failed");
        var timers = new PodTimerEvents("kept-retried");
        using (GrainTimerEvents.AllEvents.Subscribe(timers))
        {
            await Grains.GetGrain<INodeGrain>("g-retry").Register(NodeSpecOf("g-retry"));
            Writes.FailNext(p => p.Phase == PodPhase.Running, "Running");
            await Grains.GetGrain<IPodGrain>("kept-retried").Create(PodOf("kept-retried"), null);
            await WaitForPod(Grains, "kept-retried", p => p.Phase == PodPhase.Running);
            await timers.WaitForTicks(2);
        }
        Assert.Equal(1, Writes.Failed);
        Assert.Equal(2, timers.Created);
        Assert.Equal(2, timers.Disposed);
    }

    /// <summary>
    /// A pod deleted while its start waits to be retried (its Running write failed) takes that start with it: it was left
    /// registered, and a pod created again under the name and placed within the retry's delay replaced it in the field
    /// that the tick disposes, so one timer stayed registered for the activation's life.
    /// </summary>
    [Fact]
    public async Task A_pod_deleted_while_its_start_waits_to_be_retried_leaves_no_start_timer()
    {
        Log.Expect("mas-pod/kept-deleted");
        Log.Expect("the pod's Running write failed");
        var timers = new PodTimerEvents("kept-deleted");
        var pod = Grains.GetGrain<IPodGrain>("kept-deleted");
        using (GrainTimerEvents.AllEvents.Subscribe(timers))
        {
            await Grains.GetGrain<INodeGrain>("g-deleted").Register(NodeSpecOf("g-deleted"));
            Writes.Fail(p => p.Phase == PodPhase.Running, "Running");
            await pod.Create(PodOf("kept-deleted"), null);
            // The first start's tick has ended (its write failed): the retry's timer is registered, due 1 s later.
            await timers.WaitForTicks(1);
            Assert.True((await pod.Delete()).IsOk);
            // Three timers: the start, its retry, the deletion's own (DeactivateIfStillDeleted, a minute on); the start's
            // disposed in its tick, the retry's by the deletion, before its 1 s delay ran out.
            Assert.Equal((3, 2), (timers.Created, timers.Disposed));
        }
        Writes.Stop();
    }

    /// <summary>
    /// Pods of the cluster default policy (most name none) record the same Created message, one string for all, not a
    /// copy each: the states the two pods wrote, the grains' own objects, hold one string.
    /// </summary>
    [Fact]
    public async Task Pods_of_the_default_policy_record_one_created_message_string()
    {
        await Grains.GetGrain<IPodGrain>("kept-msg-a").Create(PodOf("kept-msg-a"), null);
        await Grains.GetGrain<IPodGrain>("kept-msg-b").Create(PodOf("kept-msg-b"), null);
        var (a, b) = (CreatedMessage("kept-msg-a"), CreatedMessage("kept-msg-b"));
        Assert.Equal("pod accepted; waiting for policy '(cluster default)'", a);
        Assert.Same(a, b);
        Assert.Equal(a, (await Grains.GetGrain<IPodGrain>("kept-msg-a").Get())!.Events[0].Message);
    }

    private string CreatedMessage(string pod) => Assert.Single(Writes.LastWritten(pod)!.Events, e => e.Reason == "Created").Message;
}
