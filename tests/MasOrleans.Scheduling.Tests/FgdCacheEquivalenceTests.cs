using CsCheck;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// FGD's per-shape result cache (kept across decisions, invalidated per node by <see cref="ClusterState.NodeVersion"/>)
/// against the uncached evaluation (every node's fragmentation computed from the cluster as it is), on random GPU
/// clusters and pod streams with binds, unbinds and node relabelling in between: the same nodes, devices and scores.
/// </summary>
public class FgdCacheEquivalenceTests
{
    private static readonly string?[] Models = [null, "V100", "T4", "A100"];

    private sealed record NodeCase(int Cpu, int Gpus, int Model, int Used);

    private static readonly Gen<NodeCase> GenNode =
        Gen.Select(Gen.Int[1, 8], Gen.Int[0, 8], Gen.Int[0, 3], Gen.Int[0, 4]).Select((cpu, gpus, model, used) => new NodeCase(cpu, gpus, model, used));

    /// <summary>CPU-only, shares of 100..900 milli, one to four whole GPUs; some shares and whole GPUs pinned to a model.</summary>
    private static readonly Gen<PodSpec> GenPod =
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 12], Gen.Int[0, 5]).Select((cpu, gpu, model) => new PodSpec
        {
            Name = "",
            Requests = ResourceVector.Of(cpuMilli: cpu * 2000L, memoryBytes: TestCluster.Gi,
                gpuMilli: gpu switch { < 3 => 0, < 9 => (gpu - 2) * 150L, _ => (gpu - 8) * 1000L }),
            NodeSelector = gpu >= 3 && model is >= 1 and <= 3 ? new Dictionary<string, string> { [ResourceNames.GpuProductLabel] = Models[model]! } : null,
        });

    /// <summary>A step: 0..5 schedules the next pod, 6 unbinds an earlier pod, 7 relabels a node's GPU model.</summary>
    private static readonly Gen<(NodeCase[] Nodes, PodSpec[] Pods, int[] Steps, int Seed)> GenCase =
        Gen.Select(GenNode.Array[2, 40], GenPod.Array[4, 30], Gen.Int[0, 7].Array[10, 60], Gen.Int);

    private static ClusterState Build(NodeCase[] nodes, IReadOnlyList<PodSpec> pods)
    {
        var cluster = new ClusterState();
        for (var i = 0; i < nodes.Length; i++)
        {
            var c = nodes[i];
            var labels = Models[c.Model] is { } m ? new Dictionary<string, string> { [ResourceNames.GpuProductLabel] = m } : null;
            cluster.AddNode(TestCluster.Node($"n{i}", c.Cpu * 8000L, 64 * TestCluster.Gi, c.Gpus, labels));
        }
        // Existing load so nodes start in different states (partly used devices included).
        for (var i = 0; i < nodes.Length; i++)
        {
            for (var u = 0; u < nodes[i].Used; u++)
            {
                var pod = pods[(i + u) % pods.Count] with { Name = $"e{i}-{u}", NodeSelector = null };
                if (cluster.FitsResources(i, pod)) cluster.TryBind(i, pod, Plugins.Devices.BestFitDeviceSelector.Instance.Select(cluster, i, pod));
            }
        }
        return cluster;
    }

    private static PolicyOptions Options(IReadOnlyList<TypicalPod> typical, string cache) =>
        new() { TypicalPods = typical, Settings = new Dictionary<string, string> { ["fgdCache"] = cache } };

    [Fact]
    public void Cached_fgd_chooses_exactly_what_uncached_fgd_chooses_through_binds_unbinds_and_relabels()
    {
        var catalog = PolicyCatalog.CreateDefault();
        GenCase.Sample(c =>
        {
            var typical = TypicalPods.From(c.Pods);
            var cachedProfile = catalog.Create("fgd", Options(typical, "on"));
            var uncachedProfile = catalog.Create("fgd", Options(typical, "off"));
            // The cached side takes every fast path (batch scoring); the uncached side the reference mode.
            var cached = new ProfileScheduler(cachedProfile);
            var uncached = new ProfileScheduler(uncachedProfile, fastPaths: false);
            var cachedEvaluator = ((FgdScore)cachedProfile.Scores[0].Plugin).Evaluator;
            var uncachedEvaluator = ((FgdScore)uncachedProfile.Scores[0].Plugin).Evaluator;
            Check(cachedEvaluator.Cached && !uncachedEvaluator.Cached, "fgdCache setting not applied");
            var (a, b) = (Build(c.Nodes, c.Pods), Build(c.Nodes, c.Pods));
            var (randomA, randomB) = (new Random(c.Seed), new Random(c.Seed));
            var bound = new List<string>();
            var next = 0;
            for (var s = 0; s < c.Steps.Length; s++)
            {
                var step = c.Steps[s];
                if (step == 6 && bound.Count > 0)
                {
                    var victim = bound[(s * 7) % bound.Count];
                    bound.Remove(victim);
                    Check(a.Unbind(victim) && b.Unbind(victim), $"step {s}: unbind {victim} failed");
                    continue;
                }
                if (step == 7)
                {
                    var n = (s * 13) % a.NodeCount;
                    var model = Models[(s + n) % Models.Length];
                    var spec = a.Spec(n) with { Labels = model is null ? PodSpec.Empty : new Dictionary<string, string> { [ResourceNames.GpuProductLabel] = model } };
                    a.UpdateNode(spec);
                    b.UpdateNode(spec);
                    continue;
                }
                var pod = c.Pods[next++ % c.Pods.Length] with { Name = $"p{s}" };
                // Every node's result, cached vs computed afresh: score, device and fragmentation delta.
                for (var n = 0; n < a.NodeCount; n++)
                {
                    var x = cachedEvaluator.Evaluate(a, n, pod);
                    var y = uncachedEvaluator.Evaluate(b, n, pod);
                    Check(x == y, $"step {s} node n{n} pod {PodShape.Of(pod)}: cached {x} vs uncached {y}");
                }
                var ra = cached.Schedule(a, pod, randomA);
                var rb = uncached.Schedule(b, pod, randomB);
                Check(ra.Node == rb.Node && ra.Gpus.Devices.SequenceEqual(rb.Gpus.Devices) && ra.TotalScore == rb.TotalScore,
                    $"step {s} pod {PodShape.Of(pod)}: cached chose {ra.NodeName} {string.Join(",", ra.Gpus.Devices)} ({ra.TotalScore}), uncached {rb.NodeName} {string.Join(",", rb.Gpus.Devices)} ({rb.TotalScore})");
                if (!ra.Success) continue;
                Check(a.TryBind(ra.Node, pod, ra.Gpus) && b.TryBind(rb.Node, pod, rb.Gpus), $"step {s}: bind refused");
                bound.Add(pod.Name);
            }
        }, iter: 60, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void A_bind_changes_the_cached_result_of_that_node_only()
    {
        // One typical pod, a 500m share: F counts a device's idle milli only when it has less than 500m left.
        var model = new FragmentationModel([new(new PodShape(1000, 500, 1, ""), 1.0)]);
        var evaluator = new FgdEvaluator(model);
        var cluster = TestCluster.Of(TestCluster.Node("a", 8000, 8 * TestCluster.Gi, gpus: 1), TestCluster.Node("b", 8000, 8 * TestCluster.Gi, gpus: 1));
        var share = TestCluster.Pod("share", 1000, 0, 600);
        // Empty device: F before 0; after a 600m share 400 milli are left, below 500, so F after = 400.
        // Score = (long)(100 / (1 + e^(400/1000))) = (long)40.13 = 40 on both nodes.
        Assert.Equal(40, evaluator.Evaluate(cluster, 0, share).Score);
        Assert.Equal(40, evaluator.Evaluate(cluster, 1, share).Score);
        var versionB = cluster.NodeVersion(1);
        Assert.True(cluster.TryBind(0, TestCluster.Pod("x", 1000, 0, 300), new GpuAllocation([0], 300)));
        Assert.Equal(versionB, cluster.NodeVersion(1));
        // Node a now has 700m left: F before = 0 (700 >= 500); after the share 100m left: F after = 100.
        // Score = (long)(100 / (1 + e^(100/1000))) = (long)47.50 = 47; node b unchanged at 40.
        Assert.Equal(47, evaluator.Evaluate(cluster, 0, share).Score);
        Assert.Equal(40, evaluator.Evaluate(cluster, 1, share).Score);
        Assert.True(cluster.Unbind("x"));
        Assert.Equal(40, evaluator.Evaluate(cluster, 0, share).Score);
    }

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}
