using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// The paper protocol on a cluster small enough to follow by hand: nodes a and b with 8 cores and one GPU each, and four
/// pods of 1 core: pod-1 and pod-2 ask for half a GPU, pod-3 and pod-4 for a whole one. Together they ask for 3 GPUs,
/// 150% of the cluster's 2, so tune 1.3 adds no copies and the trace arrives whole, in the seed's shuffled order.
/// </summary>
public class HandDerivedReplayTests
{
    private static readonly NodeSpec[] Nodes = [Fixtures.Node("node-a", 8000, 1), Fixtures.Node("node-b", 8000, 1)];

    private static readonly TracePod[] Trace =
    [
        new(Fixtures.Pod("pod-1", 1000, 500)),
        new(Fixtures.Pod("pod-2", 1000, 500)),
        new(Fixtures.Pod("pod-3", 1000, 1000)),
        new(Fixtures.Pod("pod-4", 1000, 1000)),
    ];

    // The orders are System.Random(seed)'s Fisher-Yates over the name-sorted pods (PaperArrivals), worked out apart from
    // this code with a port of dotnet/runtime's src/libraries/System.Private.CoreLib/src/System/Random.Net5CompatImpl.cs.
    [Theory]
    [InlineData(1, new[] { "pod-2", "pod-3", "pod-4", "pod-1" })]
    [InlineData(4, new[] { "pod-1", "pod-2", "pod-3", "pod-4" })]
    public void The_seed_shuffles_the_four_pods_as_worked_out_by_hand(int seed, string[] order)
    {
        var arrivals = PaperArrivals.Build(Trace.Select(t => t.Pod).ToList(), 2000, 1.3, new Random(seed));
        Assert.Equal(order, arrivals.Select(p => p.Name));
    }

    // Seed 4 (pod-1, pod-2, pod-3, pod-4): best-fit puts both halves on one GPU, so pod-3 takes the other and pod-4
    // fails: 2 of 2 GPUs, 100%, once pod-3 has arrived (100% of demand) and from then on. kube spreads by cpu and memory,
    // so pod-2 goes to the empty node; neither whole-GPU pod then fits: 1 of 2 GPUs, 50%.
    // Seed 1 (pod-2, pod-3, pod-4, pod-1): pod-2 takes half of one GPU, pod-3 the other GPU, pod-4 fails; arrived demand
    // goes 25, 75, 125% and then 150% with pod-1, which fills the half GPU. At 100% (first reading at or past it, after
    // pod-4) and at 130% (after the last pod within 130%, pod-4) 1.5 of 2 GPUs are allocated, 75%; 100% only at 150%.
    [Theory]
    [InlineData("best-fit", 4, 100.0, 100.0)]
    [InlineData("kube", 4, 50.0, 50.0)]
    [InlineData("best-fit", 1, 75.0, 75.0)]
    [InlineData("kube", 1, 75.0, 75.0)]
    public void Allocation_at_100_and_130_percent_is_what_the_hand_placement_gives(string policy, int seed, double at100, double at130)
    {
        var result = new ReplayRunner(PolicyCatalog.CreateDefault()).Run(Nodes, Trace, policy, seed, new ReplaySettings { Tune = 1.3 });
        Assert.Equal(4, result.ArrivedPods);
        Assert.Equal(at100, result.AllocAt100!.Value, 9);
        Assert.Equal(at130, result.AllocAt130!.Value, 9);
        // CPU is read at the same point: one core per placed pod, of 16.
        Assert.Equal(100.0 * (seed == 1 ? 2 : policy == "kube" ? 2 : 3) / 16, result.CpuAllocAt130!.Value, 9);
    }
}
