using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

using static MasOrleans.Grains.Tests.OwnClusterViews;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The dominant shares the <c>drf</c> queue order reads from a silo's cluster view: cluster-wide, from the nodes'
/// changes, so two silos' views (each the source of its own shards' order) given the same changes give the same shares.
/// The views are the test's own, not subscribed to the feed, so they see only the changes the test hands them.
/// </summary>
public sealed class ClusterViewSharesTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    private const long Gi = 1L << 30;

    public void Dispose() => fixture.Log.AssertClean();

    /// <summary>
    /// Two nodes of 8 CPUs and 16 GiB: 16 CPUs and 32 GiB. t-a binds &lt;2 CPUs, 1 GiB&gt; on one: CPU 2/16 = 0.125,
    /// memory 1/32 → 0.125. t-b binds &lt;1 CPU, 8 GiB&gt; on the other: CPU 1/16, memory 8/32 = 0.25 → 0.25. When t-b's pod
    /// is released its share is 0 again, on both views.
    /// </summary>
    [Fact]
    public async Task Two_silos_views_given_the_same_changes_give_the_same_shares()
    {
        string[] names = ["g-share-1", "g-share-2"];
        await RegisterNodes(fixture.Client, names);
        var views = new[] { await ViewOf(names), await ViewOf(names) };
        var (first, second) = (views[0].Node(names[0])!, views[0].Node(names[1])!);
        var bound = new[]
        {
            Bound(first, first.Seq + 1, Pod("a-1", "t-a", cpuMilli: 2000, memoryBytes: 1 * Gi)),
            Bound(second, second.Seq + 1, Pod("b-1", "t-b", cpuMilli: 1000, memoryBytes: 8 * Gi)),
        };
        foreach (var view in views) await view.NodesChanged(bound);

        Assert.All(views, view => Assert.Equal(((double?)0.125, (double?)0.25), (view.DominantShare("t-a", []), view.DominantShare("t-b", []))));
        var released = new NodeChange(second.Name, second.Incarnation, second.Seq + 2, NodeChangeKind.PodReleased, Released: "b-1");
        foreach (var view in views) await view.NodesChanged([released]);
        Assert.All(views, view => Assert.Equal(((double?)0.125, (double?)0.0), (view.DominantShare("t-a", []), view.DominantShare("t-b", []))));
    }

    /// <summary>
    /// Before its first read of the nodes a view knows no capacity, and every share would read 0 (the drf order would go
    /// by namespace name): it says it does not know (null), and the drf shards hand out nothing until it starts.
    /// One node of 8 CPUs and 16 GiB: t-c's in-flight pod of 2 CPUs, 4 GiB is max(2/8, 4/16) = 0.25 once started.
    /// </summary>
    [Fact]
    public async Task A_view_that_has_not_started_does_not_know_the_shares()
    {
        const string name = "g-share-3";
        await RegisterNodes(fixture.Client, name);
        var view = NewView(fixture.Client, TimeSpan.FromMinutes(10));
        PodSpec[] inFlight = [Pod("c-1", "t-c", cpuMilli: 2000, memoryBytes: 4 * Gi)];

        Assert.Null(view.DominantShare("t-c", inFlight));
        await view.Start(new ClusterMembership([name], "kube"));
        Assert.Equal(0.25, view.DominantShare("t-c", inFlight));
    }

    private Task<SiloClusterView> ViewOf(string[] nodes) => StartedView(fixture.Client, TimeSpan.FromMinutes(10), nodes);

    private static PodSpec Pod(string name, string @namespace, long cpuMilli, long memoryBytes) =>
        new() { Name = name, Namespace = @namespace, Requests = ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: memoryBytes) };

}
