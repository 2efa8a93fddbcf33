using System.Diagnostics;
using MasOrleans.Learning.Tests.Support;
using Xunit.Abstractions;

namespace MasOrleans.Learning.Tests.Agents;

/// <summary>A quick check, not a benchmark: one decision over 1,213 nodes × 16 features (14 node + 2 pod).</summary>
public class InferenceLatencyTests(ITestOutputHelper output)
{
    public static TheoryData<string> Algorithms => new(TestAgents.Algorithms);

    [Theory, MemberData(nameof(Algorithms))]
    public void Deciding_over_1213_nodes_is_fast(string algorithm)
    {
        var layout = FeatureLayout.Anonymous(14, 2);
        using var agent = algorithm == "ppo"
            ? (IPlacementAgent)new PpoPlacementAgent(layout, new PpoOptions { HiddenSizes = [64, 64] })
            : new DdqnPlacementAgent(layout, new DdqnOptions { HiddenSizes = [64, 64] });
        var observations = RandomObservations.Create(20, seed: 1, 14, 2, minNodes: 1213, maxNodes: 1213);
        for (int i = 0; i < 50; i++) agent.Act(observations[i % observations.Count]); // warm-up

        const int n = 1_000;
        var samples = new double[n];
        for (int i = 0; i < n; i++)
        {
            long start = Stopwatch.GetTimestamp();
            agent.Act(observations[i % observations.Count]);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(samples);
        double p50 = samples[n / 2], p99 = samples[(int)(n * 0.99)];
        output.WriteLine($"{algorithm} Act over 1213 nodes: p50 {p50 * 1000:F0} µs, p99 {p99 * 1000:F0} µs (torch threads {TorchSharp.torch.get_num_threads()})");
        // Target: p99 < 1 ms on an idle core. Tests (and other engineers) share 2 cores, so the tail here is
        // dominated by preemption; assert on the median, which reflects the forward's real cost.
        Assert.True(p50 < 2, $"p50 {p50:F2} ms");
    }
}
