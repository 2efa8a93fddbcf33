using CsCheck;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// The fast paths (PreFilter skips, taint summaries, batch scoring) against ProfileScheduler's reference mode
/// (every filter on every node, one Score call per node): on random clusters large enough for the adaptive
/// percentageOfNodesToScore to sample, with the same seed, every decision of a pod stream must be identical.
/// </summary>
public class FastPathEquivalenceTests
{
    private static readonly PolicyCatalog Catalog = CreateCatalog();

    private static PolicyCatalog CreateCatalog()
    {
        var catalog = PolicyCatalog.CreateDefault();
        ProfileConfiguration.Register(catalog,
        [
            Variant("kube-most-allocated", new() { Name = "NodeResourcesFit", Strategy = "MostAllocated", Resources = KubePolicies.AllDimensions() }),
            Variant("kube-rtc", new()
            {
                Name = "NodeResourcesFit", Strategy = "RequestedToCapacityRatio", Resources = KubePolicies.AllDimensions(),
                Shape = [new() { Utilization = 0, Score = 2 }, new() { Utilization = 60, Score = 10 }, new() { Utilization = 100, Score = 0 }],
            }),
        ]);
        return catalog;
    }

    /// <summary>kube's profile with its NodeResourcesFit entry replaced, plus v1.36 balanced allocation over every dimension.</summary>
    private static ProfileDefinition Variant(string name, ScorePluginDefinition fit)
    {
        var definition = KubePolicies.Kube();
        definition.Name = name;
        definition.Scores = definition.Scores
            .Select(s => s.Name == ScorePluginRegistry.NodeResourcesFit ? fit : s)
            .Append(new() { Name = "NodeResourcesBalancedAllocation", Weight = 2, Resources = KubePolicies.AllDimensions(), Args = { ["scoreChange"] = "true" } })
            .ToList();
        return definition;
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var p in Catalog.Policies)
        {
            data.Add(p.Name, "");
            if (p.Name.StartsWith("kube", StringComparison.Ordinal)) data.Add(p.Name, "balancedAllocation=change");
        }
        return data;
    }

    private static readonly string[] Zones = ["a", "b", "c", "d"];
    private static readonly Taint SpotTaint = new("spot", "true", TaintEffects.PreferNoSchedule);
    private static readonly Taint GpuTaint = new("gpu", "true", TaintEffects.NoSchedule);

    private sealed record NodeCase(NodeSpec Spec, bool Ready);

    private static readonly Gen<NodeCase> GenNode =
        Gen.Select(Gen.Int[0, 16], Gen.Int[0, 64], Gen.Int[0, 8], Gen.Int[0, 9], Gen.Int[0, 3], Gen.Int[0, 9], Gen.Int[0, 19])
            .Select((cpu, mem, gpus, extra, zone, taints, state) => new NodeCase(new NodeSpec
            {
                Name = "",
                // Zero cpu or memory capacity happens: scorers must skip such a resource on that node only.
                Capacity = ResourceVector.Of(cpuMilli: cpu * 4000L, memoryBytes: mem * 8 * TestCluster.Gi, gpuMilli: gpus * 1000L,
                    diskIoMilli: extra < 5 ? extra * 200_000L : 0, networkMilli: extra > 3 ? extra * 1_000_000L : 0,
                    ephemeralBytes: extra % 3 == 0 ? 0 : extra * 100 * TestCluster.Gi),
                Labels = new Dictionary<string, string> { ["zone"] = Zones[zone] },
                Taints = taints switch { 0 => [SpotTaint], 1 => [GpuTaint], 2 => [SpotTaint, GpuTaint], _ => [] },
                Unschedulable = state == 0,
            }, Ready: state != 1));

    private static readonly Gen<PodSpec> GenPod =
        Gen.Select(Gen.Int[0, 16], Gen.Int[0, 32], Gen.Int[0, 14], Gen.Int[0, 9], Gen.Int[0, 9])
            .Select((cpu, mem, gpu, extra, shape) => new PodSpec
            {
                Name = "",
                Requests = ResourceVector.Of(cpuMilli: cpu * 500L, memoryBytes: mem * TestCluster.Gi,
                    gpuMilli: gpu switch { < 6 => 0, < 12 => (gpu - 5) * 150L, _ => (gpu - 11) * 1000L },
                    diskIoMilli: extra == 1 ? 50_000 : 0, networkMilli: extra == 2 ? 500_000 : 0, ephemeralBytes: extra == 3 ? 10 * TestCluster.Gi : 0),
                Labels = new Dictionary<string, string> { ["app"] = $"app{shape % 3}" },
                Image = shape < 3 ? $"image-{shape}" : null,
                Tolerations = shape is 4 or 5 ? [new Toleration("gpu", "Exists")] : shape == 6 ? [new Toleration("spot", "Exists", Effect: TaintEffects.PreferNoSchedule)] : null,
                NodeName = shape == 7 ? "n3" : null,
                TopologySpreadConstraints = shape == 8
                    ? [new TopologySpreadConstraint(1, "zone", "ScheduleAnyway", new LabelSelector(new Dictionary<string, string> { ["app"] = "app2" }))]
                    : null,
            });

    private static readonly Gen<(NodeCase[] Nodes, PodSpec[] Existing, PodSpec[] Incoming, int Seed)> GenCase =
        Gen.Select(GenNode.Array[1, 260], GenPod.Array[0, 150], GenPod.Array[1, 6], Gen.Int);

    /// <param name="nominate">
    /// Every tenth existing pod is nominated to its node instead of bound: the fast path then refilters the nodes they
    /// are nominated to with them counted (NominatedPods), and must still choose as the reference does.
    /// </param>
    private static ClusterState Build(NodeCase[] nodes, PodSpec[] existing, bool nominate)
    {
        var cluster = new ClusterState();
        for (var i = 0; i < nodes.Length; i++)
        {
            cluster.AddNode(nodes[i].Spec with { Name = $"n{i}" }, nodes[i].Ready);
            if (i % 7 == 0) cluster.AddImage(i, "image-1");
        }
        for (var i = 0; i < existing.Length; i++)
        {
            var pod = existing[i] with { Name = $"e{i}", NodeName = null };
            var n = (i * 31) % cluster.NodeCount;
            if (nominate && i % 10 == 9) cluster.Nominate(n, pod);
            else if (cluster.FitsResources(n, pod)) cluster.TryBind(n, pod, Plugins.Devices.BestFitDeviceSelector.Instance.Select(cluster, n, pod));
        }
        return cluster;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fast_paths_choose_exactly_what_the_reference_path_chooses(string policy, string setting)
    {
        var settings = setting.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { [setting.Split('=')[0]] = setting.Split('=')[1] };
        GenCase.Sample(c =>
        {
            foreach (var percentage in new int?[] { null, 100 })
            {
                var options = new PolicyOptions { PercentageOfNodesToScore = percentage, Settings = settings };
                var fast = new ProfileScheduler(Catalog.Create(policy, options));
                var reference = new ProfileScheduler(Catalog.Create(policy, options), fastPaths: false);
                Check(fast.FastPaths && !reference.FastPaths, "modes not set");
                // Half the cases with pods nominated, half without (where the fast path filters by pass alone).
                var nominate = (c.Seed & 1) == 0;
                var (fastCluster, referenceCluster) = (Build(c.Nodes, c.Existing, nominate), Build(c.Nodes, c.Existing, nominate));
                var (fastRandom, referenceRandom) = (new Random(c.Seed), new Random(c.Seed));
                for (var i = 0; i < c.Incoming.Length; i++)
                {
                    // Binding each choice moves the round-robin start and changes the cluster for the next pod.
                    var pod = c.Incoming[i] with { Name = $"p{i}" };
                    var a = fast.Schedule(fastCluster, pod, fastRandom);
                    var b = reference.Schedule(referenceCluster, pod, referenceRandom);
                    var where = $"{policy} {setting} pct={percentage} nominated={nominate} pod {i}";
                    Check(a.Node == b.Node && a.Gpus.Devices.SequenceEqual(b.Gpus.Devices), $"{where}: fast chose {a.NodeName}, reference {b.NodeName}");
                    Check(a.TotalScore == b.TotalScore, $"{where}: total {a.TotalScore} vs {b.TotalScore}");
                    Check(a.PluginScores.OrderBy(kv => kv.Key).SequenceEqual(b.PluginScores.OrderBy(kv => kv.Key)),
                        $"{where}: plugin scores {Show(a.PluginScores)} vs {Show(b.PluginScores)}");
                    Check(a.FeasibleNodes == b.FeasibleNodes && a.EvaluatedNodes == b.EvaluatedNodes, $"{where}: feasible/evaluated differ");
                    Check(a.FailureMessage == b.FailureMessage, $"{where}: '{a.FailureMessage}' vs '{b.FailureMessage}'");
                    if (!a.Success) continue;
                    Check(fastCluster.TryBind(a.Node, pod, a.Gpus) && referenceCluster.TryBind(b.Node, pod, b.Gpus), $"{where}: bind refused");
                }
            }
        }, iter: 25, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Plugin_scores_keep_dictionary_semantics()
    {
        var cluster = TestCluster.Of(TestCluster.Node("a", 4000, 8 * TestCluster.Gi), TestCluster.Node("b", 8000, 8 * TestCluster.Gi));
        var result = new ProfileScheduler(Catalog.Create("kube")).Schedule(cluster, TestCluster.Pod("p", 1000, TestCluster.Gi), new Random(1));
        Assert.Equal("b", result.NodeName);
        Assert.Equal(KubePolicies.Kube().Scores.Count, result.PluginScores.Count);
        // cpu (8000 - 1000) * 100 / 8000 = 87, memory (8 - 1) * 100 / 8 = 87: LeastAllocated 87.
        Assert.Equal(87, result.PluginScores["NodeResourcesFit"]);
        Assert.False(result.PluginScores.ContainsKey("nope"));
        Assert.Throws<KeyNotFoundException>(() => result.PluginScores["nope"]);
    }

    private static string Show(IReadOnlyDictionary<string, long> scores) => string.Join(",", scores.Select(kv => $"{kv.Key}={kv.Value}"));

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}
