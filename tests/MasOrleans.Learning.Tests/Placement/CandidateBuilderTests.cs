using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Tests.Placement;

/// <summary>
/// The learned policies' shortlist: the top K/2 feasible nodes by FGD's score, then the top of the rest by BestFit's
/// raw score, each by key and then the lower node index. Expected lists come from sorting every feasible node with
/// scores from an uncached FGD evaluator and <see cref="PlacementFeatures.BestFit(ClusterState, int, PodSpec)"/>.
/// </summary>
public class CandidateBuilderTests
{
    private const int Shortlist = 8;

    [Theory]
    [InlineData(8)]
    [InlineData(5)]
    [InlineData(1)]
    public void The_shortlist_is_fgds_best_half_then_bestfits_best_of_the_rest_in_any_feasible_order(int shortlist)
    {
        var (cluster, pods, model) = HalfFullSample();
        var builder = new CandidateBuilder(model, shortlist);
        var reference = new FgdEvaluator(model, cached: false);
        var random = new Random(3);
        var checkedPods = 0;
        foreach (var pod in pods.Take(60))
        {
            var feasible = Enumerable.Range(0, cluster.NodeCount).Where(n => Fits(cluster, n, pod)).ToArray();
            if (feasible.Length <= shortlist) continue;
            var fgd = feasible.ToDictionary(n => n, n => reference.Evaluate(cluster, n, pod).Score);
            // Half by FGD (rounded down, at least one), the rest by BestFit.
            var byFgd = feasible.OrderByDescending(n => fgd[n]).ThenBy(n => n).Take(Math.Max(1, shortlist / 2)).ToArray();
            var byBestFit = feasible.Except(byFgd).OrderByDescending(n => PlacementFeatures.BestFit(cluster, n, pod)).ThenBy(n => n)
                .Take(shortlist - byFgd.Length);
            int[] expected = [.. byFgd, .. byBestFit];

            // As the scheduler hands them over (ascending from a round-robin start), and shuffled.
            var start = random.Next(feasible.Length);
            int[] rotated = [.. feasible[start..], .. feasible[..start]];
            foreach (var order in new[] { rotated, feasible.OrderBy(_ => random.Next()).ToArray() })
            {
                var candidates = builder.Build(cluster, pod, order);
                Assert.Equal(expected, candidates.Nodes);
                var f = PlacementFeatures.NodeFeatureCount;
                var fgdColumn = PlacementFeatures.Layout.NodeFeatures.ToList().IndexOf("fgd_score");
                for (var i = 0; i < expected.Length; i++)
                    Assert.Equal(fgd[expected[i]] / 100f, candidates.Observation.NodeFeatures[i * f + fgdColumn]);
            }
            checkedPods++;
        }
        Assert.True(checkedPods > 20, $"only {checkedPods} pods had more feasible nodes than the shortlist");
    }

    [Fact]
    public void With_no_more_feasible_nodes_than_the_shortlist_every_one_is_a_candidate_in_the_given_order()
    {
        var (cluster, pods, model) = HalfFullSample();
        var builder = new CandidateBuilder(model, Shortlist);
        var pod = pods[0];
        var feasible = Enumerable.Range(0, cluster.NodeCount).Where(n => Fits(cluster, n, pod)).Take(Shortlist).Reverse().ToArray();
        Assert.Equal(Shortlist, feasible.Length);
        Assert.Equal(feasible, builder.Build(cluster, pod, feasible).Nodes);
    }

    [Fact]
    public void A_larger_leftover_is_always_a_smaller_bestfit_score()
    {
        // The shortlist skips BestFit's divisions for nodes whose integer leftover exceeds the list's last one; that is
        // only exact if the integer order never contradicts the doubles'. Leftovers up to 8 GPUs and 1,000 cores,
        // neighbours one milli apart and pairs with equal sums (c + 16g) included.
        var random = new Random(9);
        for (var k = 0; k < 200_000; k++)
        {
            long c1 = random.NextInt64(0, 1_000_000), g1 = random.NextInt64(0, 8_001);
            var (c2, g2) = (k % 3) switch
            {
                0 => (c1 + 1, g1),
                1 => (c1 + 16, g1 > 0 ? g1 - 1 : g1 + 1),
                _ => (random.NextInt64(0, 1_000_000), random.NextInt64(0, 8_001)),
            };
            var (l1, l2) = (PlacementFeatures.BestFitLeftover(c1, g1), PlacementFeatures.BestFitLeftover(c2, g2));
            var (b1, b2) = (PlacementFeatures.BestFit(c1, g1), PlacementFeatures.BestFit(c2, g2));
            if (l1 < l2) Assert.True(b1 > b2, $"({c1}, {g1}) vs ({c2}, {g2})");
            if (l2 < l1) Assert.True(b2 > b1, $"({c2}, {g2}) vs ({c1}, {g1})");
        }
        Assert.Equal(-1, PlacementFeatures.BestFitLeftover(-1, 5));
        Assert.Equal(0, PlacementFeatures.BestFit(-1, 5));
    }

    /// <summary>A 120-node sample of openb, filled by fgd to about half its GPUs, so scores and leftovers vary and tie.</summary>
    private static (ClusterState Cluster, IReadOnlyList<PodSpec> Pods, FragmentationModel Model) HalfFullSample()
    {
        var (nodes, trace) = SampledOpenb.Load(120, seed: 2);
        var cluster = ClusterState.Of(nodes);
        var typical = TypicalPods.From(trace);
        var fill = new ProfileScheduler(PolicyCatalog.CreateDefault().Create("fgd", new PolicyOptions { TypicalPods = typical }));
        var arrivals = PaperArrivals.Build(trace, cluster.GpuDeviceTotal * 1000L, 1.3, new Random(7));
        var random = new Random(1);
        long placed = 0;
        var next = 0;
        for (; next < arrivals.Count && placed < cluster.GpuDeviceTotal * 500L; next++)
        {
            var result = fill.Schedule(cluster, arrivals[next], random);
            if (result.Success && cluster.TryBind(result.Node, arrivals[next], result.Gpus)) placed += arrivals[next].Requests.GpuMilli;
        }
        return (cluster, arrivals.Skip(next).ToList(), new FragmentationModel(typical));
    }

    /// <summary>CPU, memory and GPU fit (whole devices free, or one device with the shared share free); names no filter plugin on purpose.</summary>
    private static bool Fits(ClusterState cluster, int node, PodSpec pod)
    {
        if (cluster.Free(ResourceKind.Cpu, node) < pod.Requests.CpuMilli || cluster.Free(ResourceKind.Memory, node) < pod.Requests.MemoryBytes) return false;
        var gpu = pod.Gpu;
        if (gpu.IsNone) return true;
        var devices = cluster.GpuFreeOf(node).ToArray();
        return devices.Count(free => free >= gpu.MilliPerGpu) >= gpu.Count;
    }
}
