using MasOrleans.Learning.Networks;
using MasOrleans.Learning.Online;
using MasOrleans.Learning.Placement;
using MasOrleans.Learning.Tests.Online;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Learning.Tests.Placement;

/// <summary>
/// Decisions score candidates with <see cref="PlainMlp"/> (plain C# over the exported weights); training and the
/// checks here use TorchSharp's forward. The two must give the same scores and choices, follow training at once,
/// and follow a model swap.
/// </summary>
public class PlainInferenceTests
{
    /// <summary>Relative tolerance: float sums in another order (torch's GEMM vs dot products) differ in the last bits only.</summary>
    private const float Tolerance = 1e-5f;

    private static void AssertSameScores(float[] expected, float[] actual, string where)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = Tolerance * Math.Max(1f, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{where} candidate {i}: torch {expected[i]:R}, plain {actual[i]:R}");
        }
    }

    [Fact]
    public void Plain_forward_matches_a_hand_computed_network()
    {
        // 2 inputs -> 2 hidden (ReLU) -> 1 output.
        // hidden = relu([[1, -2], [0.5, 0.25]] x + [0.5, -1]); out = [2, -1] . hidden + 0.25
        var mlp = new PlainMlp([([1f, -2f, 0.5f, 0.25f], [0.5f, -1f]), ([2f, -1f], [0.25f])], inputWidth: 2);
        var scores = new float[2];
        mlp.Forward([3f, 1f, -1f, 4f], 2, scores);
        // Row (3, 1): hidden = relu(3 - 2 + 0.5, 1.5 + 0.25 - 1) = (1.5, 0.75); out = 3 - 0.75 + 0.25 = 2.5.
        // Row (-1, 4): hidden = relu(-1 - 8 + 0.5, -0.5 + 1 - 1) = (0, 0); out = 0.25.
        Assert.Equal([2.5f, 0.25f], scores);
        // A width-1 hidden layer (a dot product, like the head) is rectified too: 2 -> 1 (ReLU) -> 1,
        // hidden = relu(x0 + x1); out = 2 * hidden + 0.5. Row (-3, 1): relu(-2) = 0, out 0.5 (unrectified: -3.5).
        // Row (1, 2): hidden 3, out 6.5.
        var narrow = new PlainMlp([([1f, 1f], [0f]), ([2f], [0.5f])], inputWidth: 2);
        narrow.Forward([-3f, 1f, 1f, 2f], 2, scores);
        Assert.Equal([0.5f, 6.5f], scores);
        Assert.Throws<ArgumentException>(() => new PlainMlp([([1f, 2f, 3f], [0f, 0f])], inputWidth: 2));
    }

    /// <summary>
    /// The vectorized layers must give the sums of one float multiply-add per input, in input order (bias first, zero
    /// inputs skipped), bit for bit: decisions tie-break on these scores, so a faster forward may not move a single bit.
    /// The reference is scalar loops; the head stays TensorPrimitives' dot product, in both. Widths 26-32-32-1 are the
    /// shipped models'; the others take the one-vector loop (8, 40) and the scalar
    /// remainder (3, 37) of a layer.
    /// Also the split form (node rows plus the pod's shared values) the decisions call.
    /// </summary>
    [Theory]
    [InlineData(new[] { 26, 32, 32, 1 })]
    [InlineData(new[] { 26, 40, 1 })]
    [InlineData(new[] { 26, 37, 1 })]
    [InlineData(new[] { 26, 37, 37, 1 })]
    [InlineData(new[] { 26, 8, 1 })]
    [InlineData(new[] { 26, 3, 1 })]
    public void Plain_forward_sums_each_output_in_input_order_bit_for_bit(int[] widths)
    {
        var random = new Random(11);
        float Next() => (float)(random.NextDouble() * 2 - 1);
        var layers = new List<(float[] Weight, float[] Bias)>();
        for (var l = 0; l + 1 < widths.Length; l++)
            layers.Add((Enumerable.Range(0, widths[l] * widths[l + 1]).Select(_ => Next()).ToArray(),
                Enumerable.Range(0, widths[l + 1]).Select(_ => Next()).ToArray()));
        const int count = 9;
        // Some inputs exactly zero, as cpu-only pods' and empty devices' features are.
        var rows = Enumerable.Range(0, count * widths[0]).Select(i => i % 5 == 0 ? 0f : Next()).ToArray();
        // Repeated rows (the forward computes a row once and copies it), and one that differs from them in its last value only.
        var w = widths[0];
        foreach (var copy in new[] { 4, 7, 8 }) Array.Copy(rows, 1 * w, rows, copy * w, w);
        rows[9 * w - 1] += 0.5f;
        var scores = new float[count];
        var mlp = new PlainMlp(layers, widths[0]);
        mlp.Forward(rows, count, scores);
        // Split as node features ++ pod features: the last 7 values of every row are the same shared ones.
        var split = rows.ToArray();
        for (var r = 0; r < count; r++) Array.Copy(rows, w - 7, split, r * w + w - 7, 7);
        var splitScores = new float[count];
        mlp.Forward(split.Where((_, i) => i % w < w - 7).ToArray(), w - 7, rows.AsSpan(w - 7, 7), count, splitScores);

        for (var r = 0; r < count; r++)
        {
            var x = rows.AsSpan(r * widths[0], widths[0]).ToArray();
            for (var l = 0; l + 1 < layers.Count; l++)
            {
                var (weight, bias) = layers[l];
                var y = new float[bias.Length];
                for (var o = 0; o < y.Length; o++)
                {
                    var sum = bias[o];
                    for (var i = 0; i < x.Length; i++)
                        if (x[i] != 0f) sum += weight[o * x.Length + i] * x[i];
                    y[o] = Math.Max(sum, 0f);
                }
                x = y;
            }
            var head = layers[^1];
            var expected = System.Numerics.Tensors.TensorPrimitives.Dot(head.Weight.AsSpan(0, x.Length), x) + head.Bias[0];
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(scores[r]));
        }
        for (var r = 0; r < count; r++)
        {
            var x = split.AsSpan(r * w, w).ToArray();
            var expected = new float[1];
            mlp.Forward(x, 1, expected);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[0]), BitConverter.SingleToInt32Bits(splitScores[r]));
        }
        Assert.Equal(scores[1], scores[7]);
        Assert.NotEqual(scores[1], scores[8]);
    }

    [Theory]
    [InlineData("ddqn")]
    [InlineData("ppo")]
    public void Shipped_models_score_real_openb_observations_as_torch_does(string algorithm)
    {
        var directory = LearnedPolicies.LocateShipped(algorithm);
        var traces = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(directory))!, "data", "traces", "openb");
        var nodes = TraceLoader.LoadNodes(Path.Combine(traces, "openb_node_list_gpu_node.csv"));
        var pods = TraceLoader.LoadPods(Path.Combine(traces, "openb_pod_list_default.csv")).Pods.Select(p => p.Pod).ToList();
        using var agent = LearnedDecisions.Load(directory, algorithm);
        var env = new PaperPlacementEnvironment(nodes, pods);
        var observation = env.Reset(3);
        var steps = 0;
        var distinct = new HashSet<int>();
        // An episode driven by the model itself (plain path) until the cluster is well filled: every kind of pod and node state.
        for (; steps < 2000 && observation is not null; steps++)
        {
            var torch = LearnedDecisions.TorchScores(agent, observation);
            var plain = LearnedDecisions.Scores(agent, observation);
            AssertSameScores(torch, plain, $"step {steps}");
            var chosen = LearnedDecisions.Choose(agent, observation);
            Assert.Equal(TorchChoice(torch, observation.Feasible), chosen);
            distinct.Add(chosen);
            observation = env.Step(chosen).Next;
        }
        Assert.Equal(2000, steps);
        Assert.True(distinct.Count > 3, "the episode should exercise more than a few candidate positions");
    }

    /// <summary>LearnedDecisions.Choose's rule applied to torch's scores: best within the tie tolerance, earliest first.</summary>
    private static int TorchChoice(float[] scores, bool[] feasible)
    {
        var best = scores.Where((_, i) => feasible[i]).Max();
        var tolerance = LearnedDecisions.TieTolerance * Math.Max(1f, Math.Abs(best));
        return Enumerable.Range(0, scores.Length).First(i => feasible[i] && scores[i] >= best - tolerance);
    }

    [Theory]
    [InlineData("ddqn")]
    [InlineData("ppo")]
    public void Training_between_decisions_is_seen_by_the_next_decision(string algorithm)
    {
        using var agent = TestAgents.Create(algorithm, PlacementFeatures.Layout, seed: 21);
        var observations = RandomObservations.Create(12, seed: 4, PlacementFeatures.NodeFeatureCount, PlacementFeatures.PodFeatureCount, minNodes: 2);
        var before = LearnedDecisions.Scores(agent, observations[0]);
        agent.Pretrain(observations.Select(o => (o, Array.IndexOf(o.Feasible, true))), epochs: 3, learningRate: 1e-2);
        var torch = LearnedDecisions.TorchScores(agent, observations[0]);
        Assert.NotEqual(before, torch);
        AssertSameScores(torch, LearnedDecisions.Scores(agent, observations[0]), "after pretraining");
    }

    [Fact]
    public void A_published_version_is_scored_with_its_own_weights()
    {
        var observation = OnlineTrainerTests.TwoCandidates();
        var first = OnlineTrainerTests.Package("ddqn", seed: 5);
        var second = OnlineTrainerTests.Package("ddqn", seed: 6);
        var slot = new LiveModelSlot("ddqn", 1, first);
        float[] Expected(ModelPackage package)
        {
            using var agent = package.LoadAgent();
            return LearnedDecisions.TorchScores(agent, observation);
        }
        var (one, two) = (Expected(first), Expected(second));
        Assert.NotEqual(one, two);
        AssertSameScores(one, slot.Use((agent, _) => LearnedDecisions.Scores(agent, observation)), "version 1");
        Assert.True(slot.Publish(2, second));
        AssertSameScores(two, slot.Use((agent, _) => LearnedDecisions.Scores(agent, observation)), "version 2");
    }

    [Theory]
    [InlineData("ddqn")]
    [InlineData("ppo")]
    public void Batch_scoring_of_the_learned_plugin_chooses_what_per_node_scoring_chooses(string algorithm)
    {
        var catalog = PolicyCatalog.CreateDefault();
        LearnedPolicies.Register(catalog);
        var trace = SyntheticPaperCluster.Pods();
        var options = new PolicyOptions { TypicalPods = TypicalPods.From(trace) };
        var fast = new ProfileScheduler(catalog.Create(algorithm, options));
        var reference = new ProfileScheduler(catalog.Create(algorithm, options), fastPaths: false);
        var (a, b) = (ClusterState.Of(SyntheticPaperCluster.Nodes()), ClusterState.Of(SyntheticPaperCluster.Nodes()));
        var (randomA, randomB) = (new Random(2), new Random(2));
        var placed = 0;
        foreach (var pod in PaperArrivals.Build(trace, a.GpuDeviceTotal * 1000L, 1.3, new Random(5)))
        {
            var x = fast.Schedule(a, pod, randomA);
            var y = reference.Schedule(b, pod, randomB);
            Assert.Equal((y.Node, y.TotalScore), (x.Node, x.TotalScore));
            Assert.Equal(y.Gpus.Devices, x.Gpus.Devices);
            if (!x.Success) continue;
            Assert.True(a.TryBind(x.Node, pod, x.Gpus) && b.TryBind(y.Node, pod, y.Gpus));
            placed++;
        }
        Assert.True(placed > 50, $"placed {placed}");
    }
}
