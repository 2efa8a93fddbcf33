using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using Microsoft.Extensions.Logging.Abstractions;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// Silo cluster views of a test's own, not subscribed to the feed, so they see only the changes the test hands them; the
/// nodes they view; and the changes handed to them.
/// </summary>
internal static class OwnClusterViews
{
    /// <summary>Registers nodes of 8 cpu and 16 GiB each.</summary>
    public static async Task RegisterNodes(IGrainFactory grains, params string[] nodes)
    {
        foreach (var node in nodes) Assert.True((await grains.Reference<INodeGrain>(node).Register(NodeSpecOf(node, cpuMilli: 8000, gpus: 0))).IsOk);
    }

    /// <summary>A view not yet started; <paramref name="gapGrace"/> null is the silo's default.</summary>
    public static SiloClusterView NewView(IGrainFactory grains, TimeSpan? gapGrace = null) =>
        new(grains, PolicyCatalog.CreateDefault(), NullLogger<SiloClusterView>.Instance, gapGrace);

    /// <summary>A view started on <paramref name="nodes"/> (read from their grains).</summary>
    public static async Task<SiloClusterView> StartedView(IGrainFactory grains, TimeSpan gapGrace, params string[] nodes)
    {
        var view = NewView(grains, gapGrace);
        await view.Start(new ClusterMembership(nodes, "kube"));
        return view;
    }

    /// <summary>The node's change numbered <paramref name="seq"/> that binds <paramref name="pod"/> (no GPUs).</summary>
    public static NodeChange Bound(NodeView node, long seq, PodSpec pod) =>
        new(node.Name, node.Incarnation, seq, NodeChangeKind.PodBound, Bound: new BoundPod(pod, GpuAllocation.None));
}
