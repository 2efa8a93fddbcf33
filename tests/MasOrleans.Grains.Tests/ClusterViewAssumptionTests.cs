using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
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
}
