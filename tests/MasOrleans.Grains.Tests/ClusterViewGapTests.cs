using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Grains.Tests.GrainTestPods;
using static MasOrleans.Grains.Tests.OwnClusterViews;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A silo's cluster view and a gap in a node's numbered changes: a late change (another silo's one-way messages are
/// not always in order) fills the gap without re-reading the node; a lost one makes the view re-read it after the grace.
/// The views here are the test's own, not subscribed to the feed, so they see only the changes the test hands them.
/// </summary>
public sealed class ClusterViewGapTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    private async Task<(SiloClusterView View, NodeView Node)> ViewOf(string node, TimeSpan gapGrace)
    {
        var view = await ViewOf(gapGrace, node);
        return (view, view.Node(node)!);
    }

    /// <summary>The nodes registered (8 cpu, 16 GiB each), and a view of them of the test's own.</summary>
    private async Task<SiloClusterView> ViewOf(TimeSpan gapGrace, params string[] nodes)
    {
        await RegisterNodes(fixture.Client, nodes);
        return await StartedView(fixture.Client, gapGrace, nodes);
    }

    private static NodeChange Bound(NodeView node, long seq, string pod) => OwnClusterViews.Bound(node, seq, PodOf(pod));

    [Fact]
    public async Task A_late_change_fills_the_gap_and_the_node_is_not_read_again()
    {
        var view = await ViewOf(TimeSpan.FromMinutes(10), "g-gap-late", "g-gap-read");
        var node = view.Node("g-gap-late")!;
        var reads = fixture.NodeReads.Of(node.Name);
        await view.NodesChanged([Bound(node, node.Seq + 2, "late-2")]);
        Assert.DoesNotContain(view.Node(node.Name)!.Pods, p => p.Pod.Name == "late-2"); // waits for its predecessor
        // A re-read, had one been started, would replace the view's node with the grain's, which holds neither pod, and
        // drop the waiting change: one of another node, started after it and done, shows when it would have landed.
        await view.Resync("g-gap-read");
        await view.NodesChanged([Bound(node, node.Seq + 1, "late-1")]);
        await view.Resync("g-gap-read");
        Assert.Equal(reads, fixture.NodeReads.Of(node.Name)); // the node was not read again, before or after the gap filled
        var after = view.Node(node.Name)!;
        Assert.Equal(node.Seq + 2, after.Seq);
        Assert.Equal(["late-1", "late-2"], after.Pods.Select(p => p.Pod.Name).Order());
    }

    [Fact]
    public async Task A_change_that_arrives_during_a_re_read_still_waits_for_its_predecessor()
    {
        var (view, node) = await ViewOf("g-gap-reread", TimeSpan.FromMinutes(10));
        // The re-read is a grain call, so it is in flight when the change after a gap arrives; the read returns the
        // node as it was (Seq), which the waiting change does not follow on.
        var reread = view.Resync(node.Name);
        await view.NodesChanged([Bound(node, node.Seq + 2, "during-2")]);
        await reread;
        await view.NodesChanged([Bound(node, node.Seq + 1, "during-1")]);
        var after = view.Node(node.Name)!;
        Assert.Equal(node.Seq + 2, after.Seq);
        Assert.Equal(["during-1", "during-2"], after.Pods.Select(p => p.Pod.Name).Order());
    }

    [Fact]
    public async Task A_lost_change_makes_the_view_read_the_node_after_the_grace()
    {
        var (view, node) = await ViewOf("g-gap-lost", TimeSpan.FromMilliseconds(200));
        // The node takes a pod; this view never hears of it (change Seq + 1 is lost), then hears of Seq + 2.
        Assert.True((await fixture.Client.Reference<INodeGrain>(node.Name).Reserve(PodOf("lost-real"), GpuAllocation.None)).Reserved);
        await view.NodesChanged([Bound(node, node.Seq + 2, "lost-after")]);
        // Read again, the view knows at least the node's reservation (Seq + 1); without a re-read it stays at Seq, the
        // change after the gap waiting for ever. (The queue shards' reconciliation may release the pod meanwhile: the
        // test's pods exist on no pod grain; that is change Seq + 2 on the node, no matter here.)
        await WaitUntil(() => Task.FromResult(view.Node(node.Name)!.Seq >= node.Seq + 1), $"a re-read of node {node.Name}");
    }

    /// <summary>
    /// A node's pods come back from its stored bindings and from a view's re-read by name; preemption reads their order as
    /// kube's start order (pkg/scheduler/util/utils.go MoreImportantPod: the older pod of equal priority is the more
    /// important). The node stamps each binding with its bind time, so both keep the order the node took them in.
    /// </summary>
    [Fact]
    public async Task A_re_read_node_keeps_its_pods_in_the_order_it_took_them()
    {
        const string name = "g-bind-order";
        var (view, _) = await ViewOf(name, TimeSpan.FromMinutes(10));
        var grain = fixture.Client.Reference<INodeGrain>(name);
        Assert.True((await grain.Reserve(PodOf("b-earlier"), GpuAllocation.None)).Reserved);
        Assert.True((await grain.Reserve(PodOf("a-later"), GpuAllocation.None)).Reserved);
        // The node's next activation reads its bindings back; the view re-reads the node from it.
        await fixture.Cluster.DeactivateAsync(grain);
        await view.Resync(name);

        var held = view.Node(name)!.Pods;
        Assert.True(held.Single(p => p.Pod.Name == "b-earlier").BoundAt < held.Single(p => p.Pod.Name == "a-later").BoundAt);
        var order = await view.WithCluster(s => s.Cluster.PodsOn(s.Cluster.IndexOf(name)).Select(b => b.Pod.Name).ToList());
        Assert.Equal(["b-earlier", "a-later"], order);
        Assert.True(await grain.Release("b-earlier"));
        Assert.True(await grain.Release("a-later"));
    }

    [Fact]
    public async Task A_re_read_that_fails_is_tried_again_though_the_node_changes_no_more()
    {
        // Issue 12's lagging listing: a view re-reads a node because it is behind (a new activation after its silo
        // died); the read fails (the node's new activation cannot load yet) and the node then changes no more, so no
        // change would ever make the view read it again.
        const string name = "g-gap-retry";
        fixture.Log.Expect($"mas-node/{name}"); // Orleans may note the failed activation
        fixture.Log.Expect($"could not re-read node {name};"); // the view's own note of the failed read, retried
        var (view, node) = await ViewOf(name, TimeSpan.FromMinutes(10));
        var grain = fixture.Client.Reference<INodeGrain>(name);
        Assert.True((await grain.Reserve(PodOf("unseen"), GpuAllocation.None)).Reserved);
        await fixture.Cluster.DeactivateAsync(grain);
        fixture.Bindings.Fail(name, failedAddsLand: false);
        await view.Resync(name);
        Assert.Equal(node.Seq, view.Node(name)!.Seq); // the read failed: the view is as it was
        fixture.Bindings.Recover(name);
        await WaitUntil(() => Task.FromResult(view.Node(name)!.Pods.Any(p => p.Pod.Name == "unseen")), $"a second read of node {name}");
    }

    [Fact]
    public async Task A_latest_change_the_view_never_heard_of_makes_it_read_the_node_after_the_grace()
    {
        // The node's last change was lost on its way to this view, and the node changes no more: only the feed's
        // repeated "latest" (ClusterFeed.SendLatest) can show the view that it is behind.
        var (view, node) = await ViewOf("g-latest-lost", TimeSpan.FromMilliseconds(200));
        Assert.True((await fixture.Client.Reference<INodeGrain>(node.Name).Reserve(PodOf("latest-unseen"), GpuAllocation.None)).Reserved);
        await view.NodesLatest([new NodeLatest(node.Name, node.Incarnation, node.Seq + 1)]);
        await WaitUntil(() => Task.FromResult(view.Node(node.Name)!.Pods.Any(p => p.Pod.Name == "latest-unseen")), $"a re-read of node {node.Name}");
    }

    [Fact]
    public async Task A_latest_change_the_view_has_applied_reads_nothing()
    {
        var view = await ViewOf(TimeSpan.FromMilliseconds(100), "g-latest-known", "g-latest-behind");
        var (node, behind) = (view.Node("g-latest-known")!, view.Node("g-latest-behind")!);
        // A change only this view has (the grain never made it): a re-read would replace the node and drop it.
        await view.NodesChanged([Bound(node, node.Seq + 1, "view-only")]);
        // Beside it, a node the view is behind on (its grain holds a pod the view never heard of): its re-read, after the
        // same grace from the same latest, shows when a re-read of the first would have been sent (counted when sent).
        Assert.True((await fixture.Client.Reference<INodeGrain>(behind.Name).Reserve(PodOf("behind-unseen"), GpuAllocation.None)).Reserved);
        var reads = fixture.NodeReads.Of(node.Name);
        await view.NodesLatest([new NodeLatest(node.Name, node.Incarnation, node.Seq + 1), new NodeLatest(behind.Name, behind.Incarnation, behind.Seq + 1)]);
        await WaitUntil(() => Task.FromResult(view.Node(behind.Name)!.Pods.Any(p => p.Pod.Name == "behind-unseen")), $"a re-read of node {behind.Name}");
        Assert.Equal(reads, fixture.NodeReads.Of(node.Name));
        Assert.Contains(view.Node(node.Name)!.Pods, p => p.Pod.Name == "view-only");
    }

    [Fact]
    public async Task A_nodes_usage_adds_up_its_pods_through_binds_replacements_releases_and_re_reads()
    {
        // Hand-derived: pods of 1000m, 250m and 500m cpu (1 GiB each); u-b bound again with 2000m replaces its 250m;
        // releasing u-a leaves 2000m + 500m and 2 GiB. The full view's sum over its pods must agree at every step.
        var (view, node) = await ViewOf("g-usage", TimeSpan.FromMinutes(10));
        var seq = node.Seq;
        NodeChange Bind(PodSpec pod) => OwnClusterViews.Bound(node, ++seq, pod);
        await view.NodesChanged([Bind(PodOf("u-a", 1000)), Bind(PodOf("u-b", 250)), Bind(PodOf("u-c", 500))]);
        AssertUsage(view, node.Name, cpuMilli: 1750, gib: 3);
        await view.NodesChanged([Bind(PodOf("u-b", 2000))]);
        AssertUsage(view, node.Name, cpuMilli: 3500, gib: 3);
        await view.NodesChanged([new NodeChange(node.Name, node.Incarnation, ++seq, NodeChangeKind.PodReleased, Released: "u-a")]);
        AssertUsage(view, node.Name, cpuMilli: 2500, gib: 2);
        await view.NodesChanged([new NodeChange(node.Name, node.Incarnation, ++seq, NodeChangeKind.PodReleased, Released: "never-bound")]);
        AssertUsage(view, node.Name, cpuMilli: 2500, gib: 2);

        // A re-read replaces the record with the grain's, which holds one pod of 300m.
        Assert.True((await fixture.Client.Reference<INodeGrain>(node.Name).Reserve(PodOf("u-real", 300), GpuAllocation.None)).Reserved);
        await view.Resync(node.Name);
        AssertUsage(view, node.Name, cpuMilli: 300, gib: 1);
    }

    [Fact]
    public async Task A_node_listing_pages_in_name_order_by_offset_and_by_continue_token()
    {
        // Hand-derived: three nodes registered out of order list as b-1, b-2, b-3; pages of 2 are b-1 b-2 | b-3.
        var view = await ViewOf(SiloClusterView.DefaultGapGrace, "g-list-b-3", "g-list-b-1", "g-list-b-2");
        Assert.True((await fixture.Client.Reference<INodeGrain>("g-list-b-1").Reserve(PodOf("listed-pod"), GpuAllocation.None)).Reserved);
        await view.Resync("g-list-b-1");

        var first = await view.ListNodes(0, 2, null);
        Assert.Equal(["g-list-b-1", "g-list-b-2"], first.Items.Select(n => n.Name));
        Assert.Equal(3, first.Total);
        Assert.Equal("g-list-b-2", first.Continue);
        Assert.Equal(["listed-pod"], first.Items[0].Pods.Select(p => p.Pod.Name));
        var second = await view.ListNodes(0, 2, first.Continue);
        Assert.Equal(["g-list-b-3"], second.Items.Select(n => n.Name));
        Assert.Equal(3, second.Total);
        Assert.Null(second.Continue);
        Assert.Empty((await view.ListNodes(0, 2, "g-list-b-3")).Items);
        Assert.Equal(["g-list-b-2", "g-list-b-3"], (await view.ListNodes(1, 5, null)).Items.Select(n => n.Name));
        Assert.Empty((await view.ListNodes(3, 5, null)).Items);
    }

    private static void AssertUsage(SiloClusterView view, string node, long cpuMilli, long gib)
    {
        var usage = view.Usage().Single(u => u.Name == node);
        Assert.Equal(ResourceVector.Of(cpuMilli: cpuMilli, memoryBytes: gib << 30), usage.Allocated);
        Assert.Equal(view.Node(node)!.Allocated, usage.Allocated);
    }

    [Fact]
    public async Task A_latest_change_of_another_activation_makes_the_view_read_the_node()
    {
        // The node grain moved (its silo died) and the view never heard its new activation: the repeat names an
        // incarnation the view does not hold, whatever the number.
        var (view, node) = await ViewOf("g-latest-moved", TimeSpan.FromMilliseconds(200));
        Assert.True((await fixture.Client.Reference<INodeGrain>(node.Name).Reserve(PodOf("latest-moved"), GpuAllocation.None)).Reserved);
        await view.NodesLatest([new NodeLatest(node.Name, Guid.NewGuid(), 1)]);
        await WaitUntil(() => Task.FromResult(view.Node(node.Name)!.Pods.Any(p => p.Pod.Name == "latest-moved")), $"a re-read of node {node.Name}");
    }
}
