using CsCheck;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// NodeResourcesFit's batch filters read the cluster's fit rows (free per dimension, pod room, a device number:
/// ClusterState.FitSummary.cs); its per-node Filter reads the reference state (pod lists and specs, Capacity − Allocated,
/// every device). On random clusters with small `pods` capacities, through binds, unbinds and relabels, both must give
/// every node the same verdict and reason (PassBatch the same verdict, RejectBatch the same reason counts), and FitsGpusBySummary must answer as FitsGpus
/// for every request shape.
/// </summary>
public class FitSummaryEquivalenceTests
{
    private const string EarlierReason = "an earlier filter's reason";

    private sealed record NodeCase(int Cpu, int MemoryGi, int Gpus, int MaxPods, bool Ephemeral);

    private static readonly Gen<NodeCase> GenNode =
        Gen.Select(Gen.Int[0, 8], Gen.Int[0, 16], Gen.Int[0, 8], Gen.Int[1, 6], Gen.Bool)
            .Select((cpu, mem, gpus, maxPods, ephemeral) => new NodeCase(cpu, mem, gpus, maxPods, ephemeral));

    /// <summary>CPU-only, shares of 100..900 milli, one to three whole GPUs, 1500 milli (one whole GPU); some ask for ephemeral storage, some for nothing.</summary>
    private static readonly Gen<PodSpec> GenPod =
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 8], Gen.Int[0, 13], Gen.Int[0, 3]).Select((cpu, mem, gpu, extra) => new PodSpec
        {
            Name = "",
            Requests = ResourceVector.Of(cpuMilli: cpu * 1000L, memoryBytes: mem * TestCluster.Gi,
                gpuMilli: gpu switch { < 3 => 0, < 12 => (gpu - 2) * 100L, 12 => 1500, _ => (gpu - 11) * 1000L },
                ephemeralBytes: extra == 1 ? 10 * TestCluster.Gi : 0),
        });

    /// <summary>A step: 0..3 binds the next pod somewhere it fits, 4 unbinds an earlier pod, 5 relabels a node.</summary>
    private static readonly Gen<(NodeCase[] Nodes, PodSpec[] Pods, int[] Steps, int Seed)> GenCase =
        Gen.Select(GenNode.Array[1, 30], GenPod.Array[3, 20], Gen.Int[0, 5].Array[5, 60], Gen.Int);

    private static readonly GpuRequest[] Requests =
        [.. from count in Enumerable.Range(0, 5) from milli in new[] { 100, 500, 999, 1000 } select new GpuRequest(count, milli)];

    [Fact]
    public void Batch_filter_and_device_summary_answer_as_the_per_node_reference_through_binds_unbinds_and_relabels()
    {
        var filter = new NodeResourcesFitFilter();
        GenCase.Sample(c =>
        {
            var cluster = new ClusterState();
            for (var i = 0; i < c.Nodes.Length; i++)
            {
                var n = c.Nodes[i];
                cluster.AddNode(TestCluster.Node($"n{i}", n.Cpu * 2000L, n.MemoryGi * TestCluster.Gi, n.Gpus) with
                {
                    MaxPods = n.MaxPods,
                    Capacity = ResourceVector.Of(cpuMilli: n.Cpu * 2000L, memoryBytes: n.MemoryGi * TestCluster.Gi, gpuMilli: n.Gpus * 1000L,
                        ephemeralBytes: n.Ephemeral ? 40 * TestCluster.Gi : 0),
                });
            }
            var random = new Random(c.Seed);
            var bound = new List<string>();
            for (var s = 0; s < c.Steps.Length; s++)
            {
                Step(cluster, c.Pods, c.Steps[s], s, bound, random);
                foreach (var pod in c.Pods) CheckVerdicts(filter, cluster, pod, random, $"step {s} ({c.Steps[s]}), pod {pod.Requests}");
                for (var n = 0; n < cluster.NodeCount; n++)
                {
                    foreach (var gpu in Requests)
                        Check(cluster.FitsGpusBySummary(n, gpu) == cluster.FitsGpus(n, gpu), $"step {s}: node {n} {gpu} summary disagrees with the devices");
                }
            }
        }, iter: 100, seed: "0N0XIzNsQ0O2");
    }

    /// <summary>
    /// ProfileScheduler's pass-only path (taken when NodeResourcesFit is the only filter left after PreFilter) and its
    /// reason counting for a pod that fits nowhere, against the reference mode: the same node, feasible and evaluated
    /// counts and failure message for every pod of a stream that fills small clusters (some clusters large enough for
    /// the adaptive node quota).
    /// </summary>
    [Theory]
    [InlineData("best-fit", null)]
    [InlineData("random", null)]
    [InlineData("kube", null)]
    [InlineData("kube", 100)]
    public void Pass_only_filtering_schedules_and_explains_failures_as_the_reference(string policy, int? percentage)
    {
        var catalog = Policies.PolicyCatalog.CreateDefault();
        var options = new Policies.PolicyOptions { PercentageOfNodesToScore = percentage };
        Gen.Select(GenNode.Array[1, 300], GenPod.Array[5, 40], Gen.Int).Sample((nodes, pods, seed) =>
        {
            var fast = new ProfileScheduler(catalog.Create(policy, options));
            var reference = new ProfileScheduler(catalog.Create(policy, options), fastPaths: false);
            var (a, b) = (new ClusterState(), new ClusterState());
            for (var i = 0; i < nodes.Length; i++)
            {
                var n = nodes[i];
                var spec = TestCluster.Node($"n{i}", n.Cpu * 2000L, n.MemoryGi * TestCluster.Gi, n.Gpus) with { MaxPods = n.MaxPods };
                a.AddNode(spec);
                b.AddNode(spec);
            }
            var (randomA, randomB) = (new Random(seed), new Random(seed));
            // Twice through the pods: the second round mostly fails, for several reasons at once.
            for (var i = 0; i < 2 * pods.Length; i++)
            {
                var pod = pods[i % pods.Length] with { Name = $"p{i}" };
                var x = fast.Schedule(a, pod, randomA);
                var y = reference.Schedule(b, pod, randomB);
                var where = $"{policy} pod {i} {pod.Requests}";
                Check(x.Node == y.Node && x.FeasibleNodes == y.FeasibleNodes && x.EvaluatedNodes == y.EvaluatedNodes,
                    $"{where}: fast {x.NodeName} ({x.FeasibleNodes}/{x.EvaluatedNodes}), reference {y.NodeName} ({y.FeasibleNodes}/{y.EvaluatedNodes})");
                Check(x.FailureMessage == y.FailureMessage, $"{where}: '{x.FailureMessage}' vs '{y.FailureMessage}'");
                if (x.Success) Check(a.TryBind(x.Node, pod, x.Gpus) && b.TryBind(y.Node, pod, y.Gpus), $"{where}: bind refused");
            }
        }, iter: 40, seed: "0N0XIzNsQ0O2");
    }

    private static void Step(ClusterState cluster, PodSpec[] pods, int step, int index, List<string> bound, Random random)
    {
        switch (step)
        {
            case <= 3:
                var pod = pods[index % pods.Length] with { Name = $"p{index}" };
                var fits = Enumerable.Range(0, cluster.NodeCount).Where(n => cluster.FitsResources(n, pod)).ToList();
                if (fits.Count == 0) return;
                var node = fits[random.Next(fits.Count)];
                // Both device choices, so devices end up partly used in different patterns.
                var gpus = step % 2 == 0 ? BestFitDeviceSelector.Instance.Select(cluster, node, pod) : WorstFitDeviceSelector.Instance.Select(cluster, node, pod);
                Check(cluster.TryBind(node, pod, gpus), $"bind of {pod.Name} refused");
                bound.Add(pod.Name);
                return;
            case 4 when bound.Count > 0:
                var victim = random.Next(bound.Count);
                Check(cluster.Unbind(bound[victim]), "unbind refused");
                bound.RemoveAt(victim);
                return;
            case 5:
                var relabelled = cluster.Spec(random.Next(cluster.NodeCount));
                cluster.UpdateNode(relabelled with { Labels = new Dictionary<string, string> { ["step"] = $"{index}" } });
                return;
        }
    }

    /// <summary>
    /// Every node at once (in a shuffled order) through FilterBatch and PassBatch, a few already rejected by an earlier
    /// filter, against Filter per node.
    /// </summary>
    private static void CheckVerdicts(NodeResourcesFitFilter filter, ClusterState cluster, PodSpec pod, Random random, string where)
    {
        var context = new SchedulingContext(cluster, pod, random);
        var nodes = Enumerable.Range(0, cluster.NodeCount).ToArray();
        random.Shuffle(nodes);
        var reasons = new string?[nodes.Length];
        var pass = new byte[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            reasons[i] = i % 4 == 0 ? EarlierReason : null;
            pass[i] = i % 4 == 0 ? (byte)0 : (byte)1;
        }
        var rejected = (byte[])pass.Clone();
        var counts = new int[filter.RejectionReasons.Count];
        filter.FilterBatch(context, nodes, reasons);
        filter.PassBatch(context, nodes, pass);
        filter.RejectBatch(context, nodes, rejected, counts);
        var expectedCounts = new int[counts.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            var expected = i % 4 == 0 ? EarlierReason : filter.Filter(context, nodes[i]);
            Check(reasons[i] == expected, $"{where}: node {nodes[i]} batch '{reasons[i]}' vs reference '{expected}'");
            Check(pass[i] == (expected is null ? 1 : 0), $"{where}: node {nodes[i]} pass {pass[i]} vs reference '{expected}'");
            Check(rejected[i] == pass[i], $"{where}: node {nodes[i]} RejectBatch left {rejected[i]}, PassBatch {pass[i]}");
            if (i % 4 != 0 && expected is not null) expectedCounts[filter.RejectionReasons.ToList().IndexOf(expected)]++;
        }
        Check(counts.SequenceEqual(expectedCounts), $"{where}: rejections counted [{string.Join(", ", counts)}], reference [{string.Join(", ", expectedCounts)}]");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}
