using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// UnplaceablePods is its own rule beside the filters the policies use (FilterSets.Standard): checked against them on the
/// empty cluster, so the two cannot drift. A pod it names fails every node by the filters; a pod it leaves passes one.
/// </summary>
public class UnplaceablePodsTests
{
    private static readonly NodeSpec[] Nodes =
    [
        Fixtures.Node("cpu-only", 96_000, 0),
        Fixtures.Node("t4-big-cpu", 128_000, 2, "T4"),
        Fixtures.Node("v100-small-cpu", 16_000, 8, "V100"),
    ];

    public static TheoryData<string, long, long, string?> Pods => new()
    {
        // name, cpu milli, GPU milli (below 1000: a share of one GPU), GPU model
        { "cpu-fits", 64_000, 0, null },
        { "cpu-above-all", 200_000, 0, null },
        { "share-fits", 1_000, 500, null },
        { "share-on-t4", 1_000, 300, "T4" },
        { "two-gpus-fit", 8_000, 2_000, null },
        { "eight-gpus-fit-v100", 8_000, 8_000, null },
        { "sixteen-gpus", 1_000, 16_000, null },
        // Each resource fits some node, no node has both: 100 CPUs are only on the T4 node, 8 GPUs only on the V100 one.
        { "cpu-and-gpus-apart", 100_000, 8_000, null },
        { "four-gpus-on-t4", 1_000, 4_000, "T4" },
        { "four-gpus-on-v100", 1_000, 4_000, "V100" },
        { "big-cpu-on-v100", 64_000, 1_000, "V100" },
        { "h100", 1_000, 1_000, "H100" },
        { "t4-or-v100", 1_000, 8_000, "T4|V100" },
    };

    [Theory]
    [MemberData(nameof(Pods))]
    public void A_pod_is_named_exactly_when_the_standard_filters_reject_it_on_every_empty_node(string name, long cpuMilli, long gpuMilli, string? models)
    {
        var pod = Fixtures.Pod(name, cpuMilli, gpuMilli);
        if (models is not null)
            pod = pod with
            {
                Affinity = new Affinity(new NodeAffinity(new NodeSelector(
                    [new NodeSelectorTerm([new NodeSelectorRequirement(ResourceNames.GpuProductLabel, SelectorOperators.In, models.Split('|'))])]))),
            };
        var cluster = ClusterState.Of(Nodes);
        var context = new SchedulingContext(cluster, pod, new Random(1));
        var filters = FilterSets.Create(FilterSets.Standard);
        foreach (var f in filters) f.PreFilter(context);
        var feasible = Enumerable.Range(0, Nodes.Length).Any(node => filters.All(f => f.Filter(context, node) is null));

        Assert.Equal(!feasible, UnplaceablePods.Of(Nodes, [pod]).Count == 1);
    }

    [Fact]
    public void Each_reason_is_the_one_the_pod_has()
    {
        var pods = new[]
        {
            Fixtures.Pod("sixteen", 1_000, 16_000),
            Fixtures.Pod("apart", 100_000, 8_000),
            Fixtures.Pod("h100", 1_000, 1_000) with { NodeSelector = new Dictionary<string, string> { [ResourceNames.GpuProductLabel] = "H100" } },
            Fixtures.Pod("t4-four", 1_000, 4_000) with { NodeSelector = new Dictionary<string, string> { [ResourceNames.GpuProductLabel] = "T4" } },
        };
        Assert.Equal(
            "4 pod(s) of t.csv fit no node even on the empty cluster, so every policy fails them (timed mode counts them as never placed): "
            + "'sixteen' requests cpu 1, memory 1Gi, nvidia.com/gpu 16, more than any node has; "
            + "'apart' requests cpu 100, memory 1Gi, nvidia.com/gpu 8, and no node has all of them; "
            + "'h100' asks for GPU model H100, which no node has; "
            + "'t4-four' requests cpu 1, memory 1Gi, nvidia.com/gpu 4 on GPU model T4, more than any node of that model has",
            UnplaceablePods.Note(Nodes, pods, "t.csv", ReplayMode.Timed));
    }
}
