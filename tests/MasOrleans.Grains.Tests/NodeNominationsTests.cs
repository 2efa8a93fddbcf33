using MasOrleans.Grains.Nodes;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>A node's nominations (<see cref="NodeNominations"/>), which every reservation on the node asks.</summary>
public sealed class NodeNominationsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Nearly every reservation finds nothing held, and asks (and a bind forgets its pod's hold) all the same: that costs no
    /// allocation. Before, the node grain's RemoveAll and Where lambdas captured the pod, so each reserve allocated their
    /// closures on entry, with or without a hold.
    /// </summary>
    [Fact]
    public void Asking_a_node_with_nothing_held_allocates_nothing()
    {
        var nominations = new NodeNominations();
        var pod = PodOf("nn-pod") with { CreatedAt = Now };
        nominations.Hold(PodOf("nn-held"), Now, version: 0);
        // Lapsed: taken off by the first ask, which leaves nothing held.
        Assert.Null(nominations.Ahead(pod, Now.AddSeconds(1)));
        Assert.Equal(0, nominations.Count);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ahead = nominations.Ahead(pod, Now);
        nominations.Forget(pod.Name);
        nominations.Forget(pod.Name, pod.CreatedAt);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Null(ahead);
    }

    /// <summary>
    /// Which holds a pod must leave room for (kube's addGeneralNominatedPods counts nominated pods of equal or higher
    /// priority; a nominee, the equal ones nominated before it): highest priority first, lapsed and lower ones left out.
    /// </summary>
    [Fact]
    public void A_pod_leaves_room_for_the_higher_and_the_earlier_equal_holds_highest_first()
    {
        var nominations = new NodeNominations();
        nominations.Hold(PodOf("equal-first") with { Priority = 10 }, Now.AddSeconds(30), version: 0);
        nominations.Hold(PodOf("lower") with { Priority = 5 }, Now.AddSeconds(30), version: 0);
        nominations.Hold(PodOf("self") with { Priority = 10 }, Now.AddSeconds(30), version: 0);
        nominations.Hold(PodOf("equal-after") with { Priority = 10 }, Now.AddSeconds(30), version: 0);
        nominations.Hold(PodOf("higher") with { Priority = 20 }, Now.AddSeconds(30), version: 0);
        nominations.Hold(PodOf("lapsed") with { Priority = 30 }, Now.AddSeconds(-1), version: 0);

        Assert.Equal(["higher", "equal-first"], nominations.Ahead(PodOf("self") with { Priority = 10 }, Now)!.Select(p => p.Name));
        // Not nominated here: every equal hold counts.
        Assert.Equal(["higher", "equal-first", "self", "equal-after"], nominations.Ahead(PodOf("other") with { Priority = 10 }, Now)!.Select(p => p.Name));
        Assert.Null(nominations.Ahead(PodOf("top") with { Priority = 21 }, Now));
    }
}
