using MasOrleans.Learning.Search;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

using static MasOrleans.Learning.Tests.Search.SearchTestPods;
using MasOrleans.Scheduling;

namespace MasOrleans.Learning.Tests.Search;

public class DeviceChoiceTests
{
    private static TypicalPod Typical(int milli, double p) => new(new PodShape(1000, milli, 1, ""), p);

    /// <summary>One 3-GPU node (64 CPUs) with a 700-milli pod on device 1 and a 750-milli pod on device 2: free [1000, 300, 250].</summary>
    private static ClusterState NodeWithFree1000_300_250()
    {
        var cluster = ClusterState.Of(NodeGenerator.Generate("gen:count=1,cpu=64,memory=256Gi,gpu=3,model=A10,prefix=n"));
        Assert.True(cluster.TryBind(0, Pod("a", 1000, 700), new GpuAllocation([1], 700)));
        Assert.True(cluster.TryBind(0, Pod("b", 1000, 750), new GpuAllocation([2], 750)));
        Assert.Equal(new[] { 1000, 300, 250 }, cluster.GpuFreeOf(0).ToArray());
        return cluster;
    }

    private static int DeviceOf(GpuAllocation a) => Assert.Single(a.Devices);

    [Fact]
    public void Exact_fragmentation_separates_devices_the_papers_rounded_score_ties()
    {
        // Typical pods: a whole GPU (p 0.9) and a 200-milli share (p 0.1); CPU never binds (64 CPUs).
        // Before, free [1000, 300, 250], idle 1550: whole GPU fits once, so 300 + 250 = 550 is fragment; the share fits
        // on all three, fragment 0. F = 0.9 * 550 = 495. A 200-milli pod on:
        //   device 0 -> [800, 300, 250]: whole GPU fits nowhere, all 1350 idle; F = 0.9 * 1350 = 1215, score
        //               sigmoid((495 - 1215) / 1000) = sigmoid(-0.72) = 0.327 -> 32;
        //   device 1 -> [1000, 100, 250]: whole GPU fragment 350; share fits on 1000 and 250, fragment 100;
        //               F = 315 + 10 = 325, sigmoid(0.170) = 0.5424 -> 54;
        //   device 2 -> [1000, 300, 50]: whole GPU fragment 350; share fragment 50; F = 315 + 5 = 320, sigmoid(0.175) = 0.5436 -> 54.
        // Devices 1 and 2 tie at 54: the paper takes the first (1); the exact F (320 < 325) and best fit among the
        // rounded ties (250 < 300 left) take 2.
        var model = new FragmentationModel([Typical(1000, 0.9), Typical(200, 0.1)]);
        var cluster = NodeWithFree1000_300_250();
        var pod = Pod("p", 1000, 200);
        Assert.Equal(495, model.NodeFragment(cluster, 0), 9);
        Assert.Equal(1, DeviceOf(new FgdDeviceSelector(new FgdEvaluator(model)).Select(cluster, 0, pod)));
        Assert.Equal(1, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.Paper).Select(cluster, 0, pod)));
        Assert.Equal(2, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.Exact).Select(cluster, 0, pod)));
        Assert.Equal(2, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.ExactTightest).Select(cluster, 0, pod)));
        Assert.Equal(2, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.RoundedTightest).Select(cluster, 0, pod)));
        Assert.Equal(54, new FgdEvaluator(model).Evaluate(cluster, 0, pod).Score);
    }

    [Fact]
    public void Exact_ties_go_to_the_first_device_or_to_the_tightest()
    {
        // Only whole GPUs are typical (p 1). A 200-milli pod on device 1 -> [1000, 100, 250] or on device 2 -> [1000, 300, 50]:
        // either way the whole GPU fits once and 350 milli is fragment (F = 350, equal exactly). On device 0 -> [800, 300, 250]
        // nothing fits, F = 1350. Exact keeps the first of the tie (1); exact-tightest the one with less left (2, 250 < 300).
        var model = new FragmentationModel([Typical(1000, 1)]);
        var cluster = NodeWithFree1000_300_250();
        var pod = Pod("p", 1000, 200);
        Assert.Equal(1, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.Exact).Select(cluster, 0, pod)));
        Assert.Equal(2, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.ExactTightest).Select(cluster, 0, pod)));
        Assert.Equal(2, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.BestFit).Select(cluster, 0, pod)));
        // A 900-milli pod fits device 0 only; whole GPUs and CPU-only pods are not the rule's to choose.
        Assert.Equal(0, DeviceOf(new FragmentationDeviceSelector(model, DeviceRule.ExactTightest).Select(cluster, 0, Pod("big", 1000, 900))));
        Assert.Equal(GpuAllocation.None, new FragmentationDeviceSelector(model, DeviceRule.Exact).Select(cluster, 0, Pod("cpu", 1000, 0)));
        Assert.Equal(new[] { 0 }, new FragmentationDeviceSelector(model, DeviceRule.Exact).Select(cluster, 0, Pod("whole", 1000, 1000)).Devices);
    }

    private static Dictionary<string, string> Set(params (string Key, string Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    public void With_the_papers_device_rule_and_name_order_decisions_are_exactly_fgds_and_fgd_weighteds(int seed)
    {
        var fgd = SearchDecisions.Of("fgd", Set(), seed);
        Assert.Contains("-", fgd); // saturated: failures are compared too
        Assert.Equal(fgd, SearchDecisions.Of(SearchPolicies.Device, Set(("device", "paper"), ("w.shared", "1"), ("w.power", "0")), seed));
        var weighted = SearchDecisions.Of(SearchPolicies.Weighted, Set(), seed);
        Assert.Equal(weighted, SearchDecisions.Of(SearchPolicies.Device, Set(("device", "paper")), seed));
        Assert.Equal(weighted, SearchDecisions.Of(SearchPolicies.Ties,
            Set(("device", "paper"), ("cpu.tie", "rank"), ("gpu.tie", "rank"), ("w.shared", "2"), ("w.power", "-2"), ("w.cpu", "1"), ("w.multi", "1")), seed));
    }

    [Fact]
    public void Other_device_rules_and_fgd_ties_change_decisions_and_repeat_per_seed()
    {
        var paper = SearchDecisions.Of(SearchPolicies.Device, Set(("device", "paper")), 5, openb: true);
        Assert.Equal(SearchDecisions.Of(SearchPolicies.Weighted, Set(), 5, openb: true), paper);
        var same = new List<string>();
        foreach (var rule in new[] { "exact", "exact-tightest", "rounded-tightest", "best-fit" })
        {
            var decisions = SearchDecisions.Of(SearchPolicies.Device, Set(("device", rule)), 5, openb: true);
            Assert.Equal(decisions, SearchDecisions.Of(SearchPolicies.Device, Set(("device", rule)), 5, openb: true));
            if (paper.SequenceEqual(decisions)) same.Add(rule);
        }
        Assert.Empty(same);
        var ties = SearchDecisions.Of(SearchPolicies.Ties, Set(), 5, openb: true);
        Assert.Equal(ties, SearchDecisions.Of(SearchPolicies.Ties, Set(), 5, openb: true));
        Assert.NotEqual(paper, ties);
    }

    [Fact]
    public void Bad_device_and_tie_settings_are_named()
    {
        var options = new PolicyOptions { TypicalPods = TypicalPods.From(SyntheticPaperCluster.Pods()), Settings = Set(("device", "widest")) };
        Assert.Contains("unknown device 'widest'", Assert.Throws<UserArgumentException>(() => SearchDecisions.Catalog().Create(SearchPolicies.Device, options)).Message);
        Assert.Contains("unknown gpu.tie 'widest'", Assert.Throws<UserArgumentException>(() => SearchDecisions.Catalog().Create(SearchPolicies.Ties, options with { Settings = Set(("gpu.tie", "widest")) })).Message);
        Assert.Contains("cpu.remnant", Assert.Throws<UserArgumentException>(() => SearchDecisions.Catalog().Create(SearchPolicies.Ties, options with { Settings = Set(("cpu.remnant", "1000")) })).Message);
    }
}
