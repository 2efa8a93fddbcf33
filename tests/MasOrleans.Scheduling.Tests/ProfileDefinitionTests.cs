using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

public class ProfileDefinitionTests
{
    private static ProfileDefinition Packing() => new()
    {
        Name = "gpu-pack",
        Description = "pack GPUs",
        Scores =
        [
            new() { Name = "NodeResourcesFit", Weight = 2, Strategy = "MostAllocated", Resources = [new() { Name = "cpu" }, new() { Name = "nvidia.com/gpu", Weight = 5 }] },
            new() { Name = "GpuSharePacking" },
        ],
        PercentageOfNodesToScore = 50,
    };

    [Fact]
    public void User_profiles_register_into_the_catalog_and_build()
    {
        var catalog = PolicyCatalog.CreateDefault();
        ProfileConfiguration.Register(catalog, [Packing()]);
        var profile = catalog.Create("gpu-pack");
        Assert.Equal(["NodeResourcesFit", "GpuSharePacking"], profile.Scores.Select(s => s.Plugin.Name));
        Assert.Equal([2, 1], profile.Scores.Select(s => s.Weight));
        Assert.Equal(50, profile.PercentageOfNodesToScore);
        // Packing: the busier node wins.
        var cluster = Of(Node("idle", 4000, 4 * Gi), Node("busy", 4000, 4 * Gi));
        Assert.True(cluster.TryBind(1, Pod("old", 2000, 1 * Gi), Model.GpuAllocation.None));
        Assert.Equal("busy", new ProfileScheduler(profile).Schedule(cluster, Pod("p", 500, Gi), new Random(1)).NodeName);
    }

    [Fact]
    public void Every_profile_can_score_every_node()
    {
        var catalog = PolicyCatalog.CreateDefault();
        foreach (var policy in catalog.Policies)
            Assert.Equal(100, catalog.Create(policy.Name, new PolicyOptions { PercentageOfNodesToScore = 100 }).PercentageOfNodesToScore);
    }

    [Fact]
    public void Telemetry_option_swaps_request_scoring_for_measured_utilization()
    {
        var catalog = PolicyCatalog.CreateDefault();
        var profile = catalog.Create("kube", new PolicyOptions { Settings = new Dictionary<string, string> { ["telemetry"] = "true" } });
        Assert.Contains(profile.Scores, s => s.Plugin.Name == "TelemetryUtilization");
        Assert.DoesNotContain(profile.Scores, s => s.Plugin.Name == "NodeResourcesFit");
        // Requests say both nodes are idle; telemetry says n0 runs hot, so the pod goes to n1.
        var cluster = Of(Node("n0", 4000, 4 * Gi), Node("n1", 4000, 4 * Gi));
        cluster.SetUtilization(0, Resources.ResourceKind.Cpu, 0.95f);
        cluster.SetUtilization(0, Resources.ResourceKind.Memory, 0.95f);
        Assert.Equal("n1", new ProfileScheduler(profile).Schedule(cluster, Pod("p", 500, Gi), new Random(1)).NodeName);
    }

    [Theory]
    [InlineData("name", "profiles[0].name")]
    [InlineData("filters", "profiles[0].filters")]
    [InlineData("percentage", "profiles[0].percentageOfNodesToScore")]
    [InlineData("plugin", "profiles[0].scores[1].name")]
    [InlineData("weight", "profiles[0].scores[0].weight")]
    [InlineData("resource", "profiles[0].scores[0].resources[1].name")]
    [InlineData("strategy", "profiles[0].scores[0].strategy")]
    [InlineData("shape", "profiles[0].scores[0].shape[1].utilization")]
    public void Validation_errors_name_the_bad_field(string broken, string field)
    {
        var d = Packing();
        switch (broken)
        {
            case "name": d.Name = " "; break;
            case "filters": d.Filters = "everything"; break;
            case "percentage": d.PercentageOfNodesToScore = 150; break;
            case "plugin": d.Scores[1].Name = "MagicScore"; break;
            case "weight": d.Scores[0].Weight = 0; break;
            case "resource": d.Scores[0].Resources![1].Name = "nvidia.com/tpu"; break;
            case "strategy": d.Scores[0].Strategy = "Cheapest"; break;
            case "shape":
                d.Scores[0].Strategy = "RequestedToCapacityRatio";
                d.Scores[0].Shape = [new() { Utilization = 50, Score = 5 }, new() { Utilization = 20, Score = 0 }];
                break;
        }
        var error = Assert.Throws<ProfileValidationException>(() => ProfileConfiguration.Register(PolicyCatalog.CreateDefault(), [d]));
        Assert.Equal(field, error.Field);
    }

    /// <summary>The metrics' policy label of pods whose policy the catalog does not know (MasMeters.UnknownPolicy).</summary>
    [Theory]
    [InlineData("unknown")]
    [InlineData("Unknown")]
    public void A_profile_may_not_take_the_metrics_name_of_unknown_policies(string name)
    {
        var d = Packing();
        d.Name = name;
        var error = Assert.Throws<ProfileValidationException>(() => ProfileConfiguration.Register(PolicyCatalog.CreateDefault(), [d]));
        Assert.Equal("profiles[0].name", error.Field);
        Assert.Contains("reserved", error.Message);
    }

    [Fact]
    public void Kube_default_profile_uses_kube_scheduler_weights()
    {
        var profile = PolicyCatalog.CreateDefault().Create("kube");
        var weights = profile.Scores.ToDictionary(s => s.Plugin.Name, s => s.Weight);
        Assert.Equal(new Dictionary<string, int>
        {
            ["TaintToleration"] = 3, ["NodeAffinity"] = 2, ["PodTopologySpread"] = 2, ["InterPodAffinity"] = 2,
            ["NodeResourcesFit"] = 1, ["NodeResourcesBalancedAllocation"] = 1, ["ImageLocality"] = 1,
        }, weights);
        Assert.Equal(0, profile.PercentageOfNodesToScore);
    }

    [Fact]
    public void Kube_plus_honours_gpu_model_affinity_and_disk_io()
    {
        var v100 = new Dictionary<string, string> { [Resources.ResourceNames.GpuProductLabel] = "V100" };
        var t4 = new Dictionary<string, string> { [Resources.ResourceNames.GpuProductLabel] = "T4" };
        var cluster = Of(Node("t4", 8000, 8 * Gi, gpus: 2, labels: t4), Node("v100", 8000, 8 * Gi, gpus: 2, labels: v100));
        var pod = Pod("p", 500, Gi, gpuMilli: 500) with
        {
            Affinity = new Model.Affinity(new Model.NodeAffinity(new Model.NodeSelector(
                [new Model.NodeSelectorTerm([new Model.NodeSelectorRequirement(Resources.ResourceNames.GpuProductLabel, Model.SelectorOperators.In, ["V100"])])]))),
        };
        var result = new ProfileScheduler(PolicyCatalog.CreateDefault().Create("kube-plus")).Schedule(cluster, pod, new Random(1));
        Assert.Equal("v100", result.NodeName);
        Assert.Single(result.Gpus.Devices);
    }
}
