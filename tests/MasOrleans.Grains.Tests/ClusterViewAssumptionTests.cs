using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static MasOrleans.Grains.Tests.GrainTestPods;
using static MasOrleans.Grains.Tests.OwnClusterViews;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A cycle whose reservation's outcome is unknown keeps its assumption in the silo's view, so the pod's next attempt asks
/// that node first (SchedulingCycle). A pod deleted before that attempt takes its assumption with it; a pod the node
/// reports stays, whatever its shard says. The view is the test's own, not subscribed to the feed.
/// </summary>
public sealed class ClusterViewAssumptionTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    [Fact]
    public async Task A_deleted_pods_assumption_goes_and_a_pod_its_node_reports_stays()
    {
        const string name = "g-assume";
        await RegisterNodes(fixture.Client, name);
        Assert.True((await fixture.Client.Reference<INodeGrain>(name).Reserve(PodOf("assume-real"), GpuAllocation.None)).Reserved);
        var view = NewView(fixture.Client);
        await view.Start(new ClusterMembership([name], "kube"));
        Assert.True(await view.WithCluster(s => s.Cluster.TryBind(s.Cluster.IndexOf(name), PodOf("assume-lost"), GpuAllocation.None)));

        view.ForgetAssumed("assume-lost");
        view.ForgetAssumed("assume-real");

        Assert.False(await view.WithCluster(s => s.Cluster.TryGetPodLocation("assume-lost", out _, out _)));
        Assert.True(await view.WithCluster(s => s.Cluster.TryGetPodLocation("assume-real", out _, out _)));
    }

    /// <summary>
    /// The cycles' nominations are the view's own (kube's nominator lives in the scheduler, not in its cache): a rebuild
    /// from the records (a node left) keeps those to the nodes still there, and the pod's deletion drops its nomination,
    /// as the nominator's DeleteNominatedPodIfExists does for a deleted pod.
    /// </summary>
    [Fact]
    public async Task A_nomination_survives_a_rebuild_of_the_view_and_goes_with_its_deleted_pod()
    {
        const string kept = "g-nominated", left = "g-nominated-left";
        await RegisterNodes(fixture.Client, kept, left);
        var view = NewView(fixture.Client);
        await view.Start(new ClusterMembership([kept, left], "kube"));
        await view.WithCluster(s =>
        {
            s.Cluster.Nominate(s.Cluster.IndexOf(kept), PodOf("nominated-here"));
            s.Cluster.Nominate(s.Cluster.IndexOf(left), PodOf("nominated-there"));
            return true;
        });

        await view.Reconcile(new ClusterMembership([kept], "kube"));

        Assert.Equal([(kept, "nominated-here")], await view.WithCluster(s => s.Cluster.Nominations.Select(n => (n.Node, n.Pod.Name)).ToList()));
        view.ForgetAssumed("nominated-here");
        Assert.Empty(await view.WithCluster(s => s.Cluster.Nominations.ToList()));
    }

    /// <summary>
    /// A pod's one-way clear may reach its silo's view before its cycle hands on the store of the nomination cleared
    /// (NominationTests): the view keeps that clear for the store to match. A rebuild from the records (a node left)
    /// between them keeps it too. Before, the rebuild carried the nominations alone, the store then marked the cleared
    /// nomination stored, and the view counted the pod on the node, nominated nowhere, until its next cycle.
    /// </summary>
    [Fact]
    public async Task A_clear_heard_before_its_nominations_store_survives_a_rebuild_of_the_view()
    {
        const string kept = "g-early-clear", left = "g-early-clear-left";
        await RegisterNodes(fixture.Client, kept, left);
        var view = NewView(fixture.Client);
        await view.Start(new ClusterMembership([kept, left], "kube"));
        await view.WithCluster(s =>
        {
            s.Cluster.Nominate(s.Cluster.IndexOf(kept), PodOf("early-cleared"));
            return true;
        });
        view.ForgetNomination("early-cleared", kept, 7);
        await view.Reconcile(new ClusterMembership([kept], "kube"));
        Assert.Equal(kept, await view.WithCluster(s => s.Cluster.NominatedNodeOf("early-cleared")));

        view.NominationStored("early-cleared", kept, 7);

        Assert.Null(await view.WithCluster(s => s.Cluster.NominatedNodeOf("early-cleared")));
    }

    /// <summary>
    /// A queue shard that leaves its silo (moved home to a silo that joined, or deactivated) takes its pods' nominations out
    /// of that silo's view: only the shard's own silo hears that one of its pods was deleted (<c>ForgetAssumed</c>), so a
    /// nomination left behind would keep that room from pods of equal or lower priority there for good. Another shard's
    /// pod keeps its nomination.
    /// </summary>
    [Fact]
    public async Task A_shard_that_leaves_its_silo_takes_its_pods_nominations_out_of_the_silos_view()
    {
        const string name = "g-shard-nominated";
        await RegisterNodes(fixture.Client, name);
        var services = fixture.Cluster.GetSiloServiceProvider();
        var view = services.GetRequiredService<SiloClusterView>();
        var shards = services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
        await WaitUntil(() => Task.FromResult(view.Node(name) is not null), $"node {name} in the silo's view");
        var names = Enumerable.Range(0, 64).Select(i => $"shard-nominated-{i}").ToList();
        var leaving = names.First(n => QueueShards.Of(n, shards) == 1);
        var staying = names.First(n => QueueShards.Of(n, shards) != 1);
        await view.WithCluster(s =>
        {
            s.Cluster.Nominate(s.Cluster.IndexOf(name), PodOf(leaving));
            s.Cluster.Nominate(s.Cluster.IndexOf(name), PodOf(staying));
            return true;
        });
        var shard = fixture.Client.Reference<ISchedulingQueueGrain>(QueueShards.Key(1));
        await shard.Ping();

        await fixture.Cluster.DeactivateAsync(shard);

        Assert.Equal([staying], await view.WithCluster(s => s.Cluster.Nominations.Select(n => n.Pod.Name).ToList()));
        view.ForgetAssumed(staying);
    }
}
