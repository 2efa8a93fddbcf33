using System.Text.Json;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Scheduling.Tests;

public class ReplayEngineTests
{
    private static readonly IReadOnlyList<NodeSpec> SmallCluster = NodeGenerator.Generate("gen:count=4,cpu=32,memory=256Gi,gpu=4");

    private static IReadOnlyList<TracePod> SmallTrace() =>
        Enumerable.Range(0, 12).Select(i => new TracePod(Fixtures.Pod($"p{i:00}", 2000 + 500 * (i % 3), i % 4 == 0 ? 0 : (i % 2 == 0 ? 1000 : 300 + 100 * (i % 5))))).ToList();

    [Fact]
    public void Paper_arrivals_reach_tune_times_capacity_without_passing_it()
    {
        var pods = SmallTrace().Select(t => t.Pod).ToList();
        const long capacity = 16_000;
        var arrivals = PaperArrivals.Build(pods, capacity, 1.3, new Random(7));
        var demand = arrivals.Sum(p => p.Requests.GpuMilli);
        Assert.True(demand <= 1.3 * capacity);
        Assert.True(demand > 1.3 * capacity - pods.Max(p => p.Requests.GpuMilli), $"stopped early at {demand}");
        // The trace's own pods all arrive once, shuffled; copies come after them with unique names.
        Assert.Equal(pods.Select(p => p.Name).Order(), arrivals.Take(pods.Count).Select(p => p.Name).Order());
        Assert.NotEqual(pods.Select(p => p.Name), arrivals.Take(pods.Count).Select(p => p.Name));
        Assert.Equal(arrivals.Count, arrivals.Select(p => p.Name).Distinct().Count());
        Assert.All(arrivals.Skip(pods.Count), p => Assert.Contains("-tuned-", p.Name));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.0)]
    [InlineData(10.5)] // arrivals are one list built first: --tune 1e9 ran out of memory building it
    public void Paper_mode_refuses_a_tune_that_is_not_above_0_and_at_most_10(double tune)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ReplayRunner(PolicyCatalog.CreateDefault()).Run(SmallCluster, SmallTrace(), "fgd", 3, new ReplaySettings { Tune = tune }));
        Assert.Equal(tune, e.ActualValue);
    }

    [Theory]
    [InlineData("fgd")]
    [InlineData("best-fit")]
    [InlineData("random")]
    public void Paper_mode_never_frees_capacity_and_accounts_for_every_arrival(string policy)
    {
        var result = new ReplayRunner(PolicyCatalog.CreateDefault()).Run(SmallCluster, SmallTrace(), policy, 3, new ReplaySettings { Tune = 1.3 });
        Assert.Equal(result.ArrivedPods, result.PlacedPods + result.FailedPods);
        Assert.True(result.Curve[^1].ArrivedPercent > 110, $"arrived only {result.Curve[^1].ArrivedPercent}%");
        // No departures: allocation never drops as demand arrives, and never exceeds arrived demand.
        for (var i = 1; i < result.Curve.Count; i++)
        {
            Assert.True(result.Curve[i].GpuAllocPercent >= result.Curve[i - 1].GpuAllocPercent);
            Assert.True(result.Curve[i].GpuAllocPercent <= result.Curve[i].ArrivedPercent + 1e-9);
        }
        Assert.NotNull(result.AllocAt130);
        Assert.NotNull(result.AllocAt100);
        Assert.NotNull(result.FragmentationAt80);
    }

    [Theory]
    [InlineData("best-fit")]
    [InlineData("random")]
    public void Alloc_at_130_is_read_where_arrivals_stop_and_alloc_at_100_where_they_pass_capacity(string policy)
    {
        // The paper reads allocation twice on one run: when arrived GPU demand first reaches the cluster's capacity, and
        // when arrivals stop at 130%. On this trace a cluster that failed some pods before 100% still takes smaller ones
        // after, so the two readings differ and a replay that wrote one into the other is caught.
        var result = new ReplayRunner(PolicyCatalog.CreateDefault()).Run(SmallCluster, SmallTrace(), policy, 3, new ReplaySettings { Tune = 1.3 });
        var last = result.Curve[^1];
        // Arrivals stop within one pod (at most one GPU, 1,000 of 16,000 milli = 6.25 points) short of 130%.
        Assert.InRange(last.ArrivedPercent, 130 - 6.25, 130 + 1e-9);
        var at100 = result.Curve.First(p => p.ArrivedPercent >= 100 - 1e-9);
        Assert.True(at100.GpuAllocPercent < last.GpuAllocPercent, $"the trace no longer tells the readings apart: {at100} vs {last}");
        Assert.Equal(last.GpuAllocPercent, result.AllocAt130);
        Assert.Equal(at100.GpuAllocPercent, result.AllocAt100);
        Assert.Equal(last.CpuAllocPercent, result.CpuAllocAt130);
    }

    [Fact]
    public void Same_seed_gives_the_same_summary_and_another_seed_may_differ()
    {
        var runner = new ReplayRunner(PolicyCatalog.CreateDefault());
        string Run(int seed) => Deterministic(runner.Run(SmallCluster, SmallTrace(), "random", seed, new ReplaySettings()));
        Assert.Equal(Run(5), Run(5));
        Assert.Contains(Enumerable.Range(6, 5), s => Run(s) != Run(5));
    }

    [Fact]
    public void Timed_mode_makes_a_pod_wait_until_a_departure_frees_its_gpu()
    {
        // One node, one GPU. A holds it from t=0 to t=100; B arrives at t=10 asking for 40 s and waits 90 s.
        var nodes = NodeGenerator.Generate("gen:count=1,cpu=8,memory=64Gi,gpu=1");
        TracePod[] trace =
        [
            new(Fixtures.Pod("a", 1000, 1000), 0, 100),
            new(Fixtures.Pod("b", 1000, 1000), 10, 50),
            new(Fixtures.Pod("c", 1000), 20, 30),
        ];
        var result = new ReplayRunner(PolicyCatalog.CreateDefault()).Run(nodes, trace, "best-fit", 1, new ReplaySettings { Mode = ReplayMode.Timed });
        Assert.Equal(3, result.PlacedPods);
        Assert.Equal(0, result.FailedPods);
        Assert.Equal(30, result.MeanWaitSeconds!.Value, 6); // (0 + 90 + 0) / 3
        Assert.Equal(90, result.P95WaitSeconds!.Value, 6);
        Assert.Equal(140, result.MakespanSeconds!.Value, 6); // B leaves at 100 + 40
        Assert.Equal(1, result.MaxQueueLength);
        Assert.Contains(result.Timeline, p => p.QueueLength == 1 && p.GpuAllocPercent == 100);
        Assert.Equal(0, result.Timeline[^1].GpuAllocPercent);
    }

    [Fact]
    public void Timed_mode_splits_by_kind_the_pods_still_waiting_not_the_attempts_that_failed()
    {
        // One node, two GPUs. F holds one for good; A holds the other from 0 to 50. B (one GPU, 40 s) arrives at 10,
        // waits and is placed at 50 when A leaves, then leaves at 90. G (two GPUs) arrives at 20 and never fits: it is
        // tried at 20, 50 and 90. So failedPods = 1 (G), and failuresByKind, which splits the failures, is {2-gpu: 1}:
        // counting attempts it read {1-gpu: 1, 2-gpu: 3} beside failedPods 1.
        var nodes = NodeGenerator.Generate("gen:count=1,cpu=8,memory=64Gi,gpu=2");
        TracePod[] trace =
        [
            new(Fixtures.Pod("f", 1000, 1000), 0, null),
            new(Fixtures.Pod("a", 1000, 1000), 0, 50),
            new(Fixtures.Pod("b", 1000, 1000), 10, 50),
            new(Fixtures.Pod("g", 1000, 2000), 20, null),
        ];
        var result = new ReplayRunner(PolicyCatalog.CreateDefault()).Run(nodes, trace, "best-fit", 1, new ReplaySettings { Mode = ReplayMode.Timed });
        Assert.Equal(3, result.PlacedPods);
        Assert.Equal(1, result.FailedPods);
        Assert.Equal(new Dictionary<string, int> { ["2-gpu"] = 1 }, result.FailuresByKind);
    }

    [Fact]
    public void Paper_mode_splits_its_failed_pods_by_kind()
    {
        var result = new ReplayRunner(PolicyCatalog.CreateDefault()).Run(SmallCluster, SmallTrace(), "random", 3, new ReplaySettings { Tune = 1.3 });
        Assert.True(result.FailedPods > 0, "the trace no longer fails any pod");
        Assert.Equal(result.FailedPods, result.FailuresByKind.Values.Sum());
    }

    /// <summary>The result as JSON without wall-clock fields, which legitimately vary between runs.</summary>
    internal static string Deterministic(ReplayResult r) =>
        JsonSerializer.Serialize(r with { WallSeconds = 0, DecisionsPerSecond = 0 });
}
