using CsCheck;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// For every registered policy on random clusters and pods: the chosen node passes every filter and
/// TryBind accepts it with the chosen devices, normalized scores stay in 0..100, and one seed gives one choice.
/// </summary>
public class PolicyPropertyTests
{
    private static readonly PolicyCatalog Catalog = CreateCatalog();

    private static PolicyCatalog CreateCatalog()
    {
        var catalog = PolicyCatalog.CreateDefault();
        ProfileConfiguration.Register(catalog, [KubePolicies.Kube() is var k ? new ProfileDefinition { Name = "kube-telemetry-rtc", Scores =
            [new() { Name = "NodeResourcesFit", Strategy = "RequestedToCapacityRatio", Shape = [new() { Utilization = 0, Score = 0 }, new() { Utilization = 100, Score = 10 }] }] } : k]);
        return catalog;
    }

    public static TheoryData<string> Policies()
    {
        var data = new TheoryData<string>();
        foreach (var p in Catalog.Policies) data.Add(p.Name);
        return data;
    }

    private static readonly string[] Zones = ["a", "b", "c"];

    private static readonly Gen<NodeSpec> GenNode =
        Gen.Select(Gen.Int[1, 16], Gen.Int[1, 64], Gen.Int[0, 4], Gen.Int[0, 2], Gen.Bool, Gen.Int[0, 5])
            .Select((cpu, mem, gpus, zone, tainted, unsched) => new NodeSpec
            {
                Name = "",
                Capacity = ResourceVector.Of(cpuMilli: cpu * 1000L, memoryBytes: mem * TestCluster.Gi, gpuMilli: gpus * 1000L),
                Labels = new Dictionary<string, string> { ["zone"] = Zones[zone] },
                Taints = tainted ? [new Taint("spot", "true", TaintEffects.PreferNoSchedule)] : [],
                Unschedulable = unsched == 0,
            });

    private static readonly Gen<PodSpec> GenPod =
        Gen.Select(Gen.Int[0, 8], Gen.Int[0, 16], Gen.Int[0, 12], Gen.Int[0, 3], Gen.Int[0, 3])
            .Select((cpu, mem, gpu, app, constraint) => new PodSpec
            {
                Name = "",
                Requests = ResourceVector.Of(cpuMilli: cpu * 500L, memoryBytes: mem * TestCluster.Gi / 2,
                    gpuMilli: gpu switch { < 6 => 0, < 10 => gpu * 100L - 500, _ => (gpu - 9) * 1000L }),
                Labels = new Dictionary<string, string> { ["app"] = $"app{app}" },
                Image = app == 0 ? null : $"image-{app}",
                TopologySpreadConstraints = constraint == 1
                    ? [new TopologySpreadConstraint(1, "zone", "DoNotSchedule", new LabelSelector(new Dictionary<string, string> { ["app"] = $"app{app}" }))]
                    : constraint == 2 ? [new TopologySpreadConstraint(1, "zone", "ScheduleAnyway", new LabelSelector(new Dictionary<string, string> { ["app"] = $"app{app}" }))] : null,
                Affinity = constraint == 3
                    ? new Affinity(PodAntiAffinity: new PodAffinity([new PodAffinityTerm(new LabelSelector(new Dictionary<string, string> { ["app"] = $"app{app}" }), "zone")]))
                    : null,
            });

    private static readonly Gen<(NodeSpec[] Nodes, PodSpec[] Existing, PodSpec Pod, int Seed)> GenCase =
        Gen.Select(GenNode.Array[1, 12], GenPod.Array[0, 20], GenPod, Gen.Int);

    /// <summary>A fresh cluster with the existing pods bound first-fit (those that fit somewhere).</summary>
    private static ClusterState Build(NodeSpec[] nodes, PodSpec[] existing)
    {
        var cluster = new ClusterState();
        for (var i = 0; i < nodes.Length; i++) cluster.AddNode(nodes[i] with { Name = $"n{i}" });
        for (var i = 0; i < existing.Length; i++)
        {
            var pod = existing[i] with { Name = $"e{i}" };
            for (var n = 0; n < cluster.NodeCount; n++)
            {
                var gpus = Plugins.Devices.BestFitDeviceSelector.Instance.Select(cluster, n, pod);
                if (cluster.FitsResources(n, pod) && cluster.TryBind(n, pod, gpus)) break;
            }
        }
        return cluster;
    }

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Chosen_node_is_feasible_bindable_and_reproducible(string policy)
    {
        GenCase.Sample(c =>
        {
            var pod = c.Pod with { Name = "incoming" };
            var cluster = Build(c.Nodes, c.Existing);
            var profile = Catalog.Create(policy);
            var result = new ProfileScheduler(profile).Schedule(cluster, pod, new Random(c.Seed));
            var again = new ProfileScheduler(Catalog.Create(policy)).Schedule(Build(c.Nodes, c.Existing), pod, new Random(c.Seed));
            Check(result.Node == again.Node && result.Gpus.Devices.SequenceEqual(again.Gpus.Devices), $"same seed chose {result.NodeName} then {again.NodeName}");

            var explanation = new ProfileScheduler(Catalog.Create(policy)).Explain(cluster, pod, new Random(c.Seed));
            var outOfRange = explanation.Nodes.SelectMany(n => n.Scores).FirstOrDefault(s => s.NormalizedScore is < 0 or > NodeScore.MaxNodeScore);
            Check(outOfRange is null, $"{outOfRange?.Plugin} normalized to {outOfRange?.NormalizedScore}");
            // Feasibility must agree between the fast path and Explain's exhaustive evaluation.
            Check(result.Success == explanation.Nodes.Any(n => n.Feasible), $"Schedule success {result.Success} but Explain disagrees: {result.FailureMessage}");
            // Explain's "why not" is the message the failed placement records (one reason per node, its first failing filter).
            Check(result.Success || result.FailureMessage == explanation.FailureMessage, $"Schedule failed with '{result.FailureMessage}', Explain says '{explanation.FailureMessage}'");
            if (!result.Success) return;

            var context = new SchedulingContext(cluster, pod, new Random(0));
            foreach (var filter in profile.Filters)
            {
                filter.PreFilter(context);
                var reason = filter.Filter(context, result.Node);
                Check(reason is null, $"chosen {result.NodeName} fails {filter.Name}: {reason}");
            }
            Check(cluster.TryBind(result.Node, pod, result.Gpus), $"TryBind refused {result.NodeName} with devices [{string.Join(",", result.Gpus.Devices)}]");
        }, iter: 150, seed: "0N0XIzNsQ0O2");
    }
}
