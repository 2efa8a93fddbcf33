using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A node grain on a silo that has begun a graceful stop: Orleans' directory may already have let the node's next
/// activation start on another silo from Redis, so a reservation this one still stored was missing there (a pod
/// "bound but its node does not hold it" in SiloStopTests). It stores none, and says why: the refusal is part of a
/// graceful stop, so a scheduling cycle it refuses is logged at Information and tried again, never a failed cycle.
/// </summary>
public sealed class NodeSiloStoppingTests() : OwnClusterTest(recorded: LogLevel.Information)
{
    // A cluster per test: each begins its silo's stop, which no other test may see.

    private readonly RelabelCount _relabels = new();

    protected override void Configure(ISiloBuilder silo) => silo.Services.AddSingleton<IIncomingGrainCallFilter>(_relabels);

    /// <summary>Counts the relabels node grains were asked, per pod.</summary>
    private sealed class RelabelCount : IIncomingGrainCallFilter
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _asked = new();

        public int Of(string pod) => _asked.GetValueOrDefault(pod);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod is { Name: nameof(INodeGrain.Relabel) } method && method.DeclaringType == typeof(INodeGrain)
                && context.Request.GetArgument(0) is string pod)
                _asked.AddOrUpdate(pod, 1, static (_, n) => n + 1);
            return context.Invoke();
        }
    }

    /// <summary>
    /// Failed before: a relabel the node grain refused because its silo stops stored nothing on the node, yet the pod
    /// asked the node again to take the old labels back, which waited for the same silo's announcement a second time
    /// (an HTTP relabel held twice as long) to be refused as well. Now the pod only stores its old labels back.
    /// </summary>
    [Fact]
    public async Task A_relabel_refused_by_a_stopping_silo_asks_the_node_no_labels_back()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-refused-node");
        Assert.True((await node.Register(NodeSpecOf("ns-refused-node"))).IsOk);
        var pod = Cluster.Client.GetGrain<IPodGrain>("ns-refused");
        Assert.True((await pod.Create(PodOf("ns-refused") with { Labels = new Dictionary<string, string> { ["app"] = "old" } }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");
        Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>().Begin();
        Log.Expect("Pod ns-refused was relabelled but node ns-refused-node failed to take the new labels");

        await Assert.ThrowsAsync<SiloUnavailableException>(() => pod.SetMetadata(new Dictionary<string, string> { ["app"] = "new" }, null));

        Assert.Equal(1, _relabels.Of("ns-refused"));
        Assert.Equal("old", (await pod.Get())!.Spec.Labels["app"]);
        Assert.Equal("old", (await Bindings.Read("ns-refused-node")).Single().Pod.Labels["app"]);
    }

    [Fact]
    public async Task A_node_grain_on_a_stopping_silo_stores_no_new_reservation()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-node");
        Assert.True((await node.Register(NodeSpecOf("ns-node"))).IsOk);
        Assert.True((await node.Reserve(PodOf("ns-before"), GpuAllocation.None)).Reserved);

        Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>().Begin();

        var refused = await node.Reserve(PodOf("ns-after"), GpuAllocation.None);
        Assert.True(refused is { Reserved: false, SiloStopping: true }, $"refused for its silo's stop: {refused}");
        Assert.Contains("its silo is stopping", refused.Reason);
        Assert.Equal(["ns-before"], await Bindings.Stored("ns-node"));
        Assert.Equal(["ns-before"], (await node.GetView())!.Pods.Select(p => p.Pod.Name));
    }

    /// <summary>
    /// Failed before: a reservation let in just before the stop began had its binding write still under way, and the
    /// stop went on to tell the cluster: the node's next activation, on another silo, could read Redis before that
    /// write landed, and miss a pod the cycle had bound there (SiloStopTests: a pod held by two nodes). The stop now
    /// waits for such writes (SchedulingSiloService awaits <see cref="SiloStopping.WritesSettled"/>); none starts once
    /// it began.
    /// </summary>
    [Fact]
    public async Task The_stop_waits_for_a_reservation_write_under_way_and_lets_none_start()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-writing-node");
        Assert.True((await node.Register(NodeSpecOf("ns-writing-node"))).IsOk);
        var stopping = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>();
        Bindings.Stall("ns-writing-node");
        var reserving = node.Reserve(PodOf("ns-writing"), GpuAllocation.None);
        await Bindings.Reached("ns-writing-node").WaitAsync(TimeSpan.FromSeconds(10));

        stopping.Begin();
        var settled = stopping.WritesSettled();

        // Its write cannot land while stalled: the stop is held until it does, whatever the time.
        Assert.False(settled.IsCompleted, "the stop went on with a reservation write under way");
        Bindings.Resume("ns-writing-node");
        Assert.True((await reserving).Reserved);
        await settled.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["ns-writing"], await Bindings.Stored("ns-writing-node"));
        Assert.True((await node.Reserve(PodOf("ns-too-late"), GpuAllocation.None)).SiloStopping);
        Assert.True(stopping.WritesSettled().IsCompleted);
    }

    /// <summary>
    /// Failed before: the refusal was an exception like any other, so the shard logged the cycle as failed (Error
    /// event 1203), on the stopping silo and on any other whose cycles chose its nodes. A refusal taken for a conflict
    /// would instead try other nodes and mark the pod Unschedulable; it stays Pending, queued again.
    /// </summary>
    [Fact]
    public async Task A_cycle_refused_by_a_node_on_a_stopping_silo_is_logged_as_information_and_the_pod_waits()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-cycle-node");
        Assert.True((await node.Register(NodeSpecOf("ns-cycle-node"))).IsOk);
        var services = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress);
        // The silo's view knows the node (ready), so the cycle chooses it rather than finding no node.
        await WaitUntil(() => Task.FromResult(services.GetRequiredService<SiloClusterView>().Node("ns-cycle-node") is { Ready: true }), "the view's node");
        services.GetRequiredService<SiloStopping>().Begin();

        Assert.True((await Cluster.Client.GetGrain<IPodGrain>("ns-cycle").Create(PodOf("ns-cycle"), null)).Outcome.IsOk);

        await WaitUntil(() => Task.FromResult(Log.Records.Any(r => r.Level == LogLevel.Information
            && r.Message.StartsWith("Scheduling cycle for pod ns-cycle refused by a node on a stopping silo", StringComparison.Ordinal))), "the refused cycle logged");
        Assert.Equal(PodPhase.Pending, (await Cluster.Client.GetGrain<IPodGrain>("ns-cycle").Get())!.Phase);
        Assert.Empty(await Bindings.Stored("ns-cycle-node"));
    }

    private static readonly Dictionary<string, string> NewLabels = new() { ["app"] = "new" };

    /// <summary>
    /// Failed before: a relabel (a binding written again with the pod's new labels) was not counted as reservations are,
    /// so the stop went on to tell the cluster with it under way, and the node's next activation could read Redis
    /// before it landed and keep the old labels for other pods' affinity and spread. Now it holds the stop until it
    /// landed, and none starts once the stop began.
    /// </summary>
    [Fact]
    public async Task The_stop_waits_for_a_relabel_under_way_and_lets_none_start()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-relabel-node");
        Assert.True((await node.Register(NodeSpecOf("ns-relabel-node"))).IsOk);
        Assert.True((await node.Reserve(PodOf("ns-relabel"), GpuAllocation.None)).Reserved);
        var stopping = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>();
        Bindings.Stall("ns-relabel-node");
        var relabeling = node.Relabel("ns-relabel", null, NewLabels);
        await Bindings.Reached("ns-relabel-node").WaitAsync(TimeSpan.FromSeconds(10));

        stopping.Begin();
        var settled = stopping.WritesSettled();

        Assert.False(settled.IsCompleted, "the stop went on with a relabel under way");
        Bindings.Resume("ns-relabel-node");
        Assert.True(await relabeling);
        await settled.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<SiloUnavailableException>(() => node.Relabel("ns-relabel", null, new Dictionary<string, string> { ["app"] = "late" }));
        Assert.Equal("new", (await Bindings.Read("ns-relabel-node")).Single().Pod.Labels["app"]);
    }

    /// <summary>
    /// Failed before: a release, a cordon and an image the node pulled were stored by a node grain whose silo had begun
    /// to stop, where the node's next activation may already have read Redis. The calls are refused now, memory
    /// untouched, as a call to the stopping silo would be (the caller asks the next activation); the one-way image
    /// report is not recorded.
    /// </summary>
    [Fact]
    public async Task Every_node_write_is_refused_once_the_stop_began()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-writes-node");
        Assert.True((await node.Register(NodeSpecOf("ns-writes-node"))).IsOk);
        Assert.True((await node.Reserve(PodOf("ns-writes"), GpuAllocation.None)).Reserved);
        Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>().Begin();

        var refusal = await Assert.ThrowsAsync<SiloUnavailableException>(() => node.Release("ns-writes"));
        // Named, so the caller waits for that silo's announcement before asking again.
        Assert.Equal(Cluster.Silos[0].SiloAddress, SiloStopping.RefusingSilo(refusal));
        await Assert.ThrowsAsync<SiloUnavailableException>(() => node.Patch(new NodePatch(Unschedulable: true)));
        // One-way: not refused, not recorded.
        await node.ImagePulled("ns-image");
        await WaitUntil(() => Task.FromResult(Log.Records.Any(r => r.Message.StartsWith("Node ns-writes-node does not record pulled image ns-image", StringComparison.Ordinal))), "the image left unrecorded");

        Assert.Equal(["ns-writes"], await Bindings.Stored("ns-writes-node"));
        var view = (await node.GetView())!;
        Assert.Equal(["ns-writes"], view.Pods.Select(p => p.Pod.Name));
        Assert.False(view.Spec.Unschedulable);
        Assert.DoesNotContain("ns-image", view.Images ?? []);
    }
    /// <summary>
    /// Failed before: Delete counted its write before judging, so on a stopping silo a delete that would be refused (a
    /// pod no workload manages: 409) was refused as a write instead (SiloUnavailableException), and a judgement that
    /// waited on its pods held the stop's write count. The judgement comes first now; only a delete that acts writes.
    /// </summary>
    [Fact]
    public async Task A_delete_refused_by_its_judgement_answers_the_same_on_a_stopping_silo()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("ns-delete-node");
        Assert.True((await node.Register(NodeSpecOf("ns-delete-node"))).IsOk);
        Assert.True((await Cluster.Client.GetGrain<IPodGrain>("ns-bare").Create(PodOf("ns-bare"), null)).Outcome.IsOk);
        // Reserve is idempotent per pod: the pod's own cycle, should it run, finds the same reservation.
        Assert.True((await node.Reserve(PodOf("ns-bare"), GpuAllocation.None)).Reserved);
        Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<SiloStopping>().Begin();

        var refused = await node.Delete();

        Assert.Equal(OutcomeCode.Conflict, refused.Outcome.Code);
        Assert.False((await node.GetView())!.Spec.Unschedulable);
    }
}
