using System.Text.Json;
using MasOrleans.Learning.Search;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Learning.Tests.Workloads;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Learning.Tests.Search;

public class AdaptiveFgdTests
{
    private static TypicalMix MixOf(IEnumerable<TracePod> pods) => TypicalMix.Of(TypicalPods.From(pods.Select(p => p.Pod)));

    [Fact]
    public void A_mix_counts_typical_pods_by_frequency()
    {
        // CPU-only 0.2; GPU 0.8 of which a 500-milli share 0.3, one whole GPU 0.3 (A10 only), two GPUs 0.2 (V100 or A10).
        TypicalPod[] typical =
        [
            new(new PodShape(4000, 0, 0, ""), 0.2), new(new PodShape(2000, 500, 1, ""), 0.3),
            new(new PodShape(8000, 1000, 1, "A10"), 0.3), new(new PodShape(16000, 1000, 2, "A10|V100"), 0.2),
        ];
        // shared 0.3 / 0.8, multi-GPU 0.2 / 0.8, CPU-only 0.2, constrained (0.3 + 0.2) / 0.8.
        var mix = TypicalMix.Of(typical);
        Assert.Equal([0.375, 0.25, 0.2, 0.625], mix.ToArray().Select(x => Math.Round(x, 12)));
        Assert.Equal(new TypicalMix(0, 0, 1, 0), TypicalMix.Of([new(new PodShape(1000, 0, 0, ""), 1)]));
    }

    [Fact]
    public void Each_experts_mix_is_its_training_workloads()
    {
        var (nodes, trace) = OpenbDefault.Load();
        foreach (var expert in AdaptiveFgd.Experts)
        {
            var pods = expert.TrainedOn == "default" ? trace
                : TraceResampler.Resample(trace, WorkloadVariants.All.Single(v => v.Name == expert.TrainedOn).Targets, nodes, 1);
            var actual = MixOf(pods).ToArray();
            var stored = expert.Mix.ToArray();
            for (var i = 0; i < stored.Length; i++) Assert.True(Math.Abs(actual[i] - stored[i]) <= 5e-5, $"{expert.TrainedOn}[{i}]: {actual[i]} against {stored[i]}");
        }
        // One expert per training and near-default workload (the near-family ones came after it, for fgd-adaptive-wide), none for a held-out one.
        Assert.Equal(WorkloadVariants.All.Where(v => v.Set is VariantSet.Training or VariantSet.NearDefault).Select(v => v.Name).Append("default").Order(), AdaptiveFgd.Experts.Select(e => e.TrainedOn).Order());
    }

    [Fact]
    public void Each_expert_has_the_weight_set_that_gained_most_on_its_workload_at_the_assignment_seeds()
    {
        // docs/learning/adaptive/assign-<set>.json: `mas evaluate --variants train,near-default --policy fgd-learned
        // --seed 1010..1014` with each set's settings (docs/learning/adaptive/assign.txt); the sets' names there are the files'.
        var files = new Dictionary<string, TieWeightSet>
        {
            ["learned"] = AdaptiveFgd.Learned, ["neardefault"] = AdaptiveFgd.NearDefault, ["run5"] = AdaptiveFgd.DefaultTrace, ["run8"] = AdaptiveFgd.Eleven,
        };
        var gains = new Dictionary<(string Workload, TieWeightSet Set), double>();
        foreach (var (file, set) in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(OpenbDefault.RepoRoot(), "docs", "learning", "adaptive", $"assign-{file}.json")));
            foreach (var row in doc.RootElement.EnumerateArray())
                gains[(row.GetProperty("workload").GetString()!, set)] = row.GetProperty("gain").GetProperty("mean").GetDouble();
        }
        foreach (var expert in AdaptiveFgd.Experts)
        {
            var best = AdaptiveFgd.WeightSets.MaxBy(set => gains[(expert.TrainedOn, set)])!;
            Assert.True(ReferenceEquals(best, expert.Weights), $"{expert.TrainedOn}: {expert.Weights.Name}, but {best.Name} gained most");
        }
        Assert.Equal(AdaptiveFgd.WeightSets.Count, AdaptiveFgd.WeightSets.Select(s => s.Name).Distinct().Count());
    }

    [Fact]
    public void The_nearest_expert_counts_each_share_by_how_far_apart_the_experts_lie_on_it()
    {
        TieExpert Expert(string name, double shared, double multi) => new(name, new TypicalMix(shared, multi, 0.1, 0), AdaptiveFgd.Learned);
        TieExpert[] experts = [Expert("a", 0.4, 0.00), Expert("b", 0.6, 0.00), Expert("c", 0.4, 0.05)];
        // Spans: shared 0.2, multi-GPU 0.05. A mix at shared 0.48, multi 0.02: squared distances in spans a (0.4 + 0.04)^2 ...
        // a: (0.08 / 0.2)^2 + (0.02 / 0.05)^2 = 0.16 + 0.16 = 0.32; b: (0.12 / 0.2)^2 + 0.16 = 0.52; c: 0.16 + (0.03 / 0.05)^2 = 0.52.
        Assert.Equal("a", AdaptiveFgd.Nearest(new TypicalMix(0.48, 0.02, 0.1, 0), experts).TrainedOn);
        // Multi-GPU 0.035: a 0.16 + 0.49 = 0.65, c 0.16 + 0.09 = 0.25: c, though in raw shares c is 0.035 - 0.05 = 0.015 away on
        // multi-GPU against b's 0.12 on shared.
        Assert.Equal("c", AdaptiveFgd.Nearest(new TypicalMix(0.48, 0.035, 0.1, 0), experts).TrainedOn);
        // Shared 0.55: a 0.5625, b 0.0625: b.
        Assert.Equal("b", AdaptiveFgd.Nearest(new TypicalMix(0.55, 0, 0.1, 0), experts).TrainedOn);
        // Equal distances go to the first.
        Assert.Equal("a", AdaptiveFgd.Nearest(new TypicalMix(0.5, 0, 0.1, 0), experts).TrainedOn);
    }

    [Fact]
    public void The_policy_decides_as_fgd_learned_with_the_nearest_experts_weights()
    {
        // 48 sampled openb nodes with the real trace: its typical pods lie nearest a workload whose weights are not fgd-learned's.
        var (_, pods) = SampledOpenb.Load(48);
        var expert = AdaptiveFgd.Nearest(TypicalMix.Of(TypicalPods.From(pods)));
        Assert.NotSame(AdaptiveFgd.Learned, expert.Weights);
        var settings = expert.Ties.SettingsWith(expert.Typical);
        var adaptive = SearchDecisions.Of(SearchPolicies.Adaptive, new Dictionary<string, string>(), 5, openb: true);
        Assert.Equal(SearchDecisions.Of(SearchPolicies.Learned, settings, 5, openb: true), adaptive);
        // Those weights are not fgd-learned's: the decisions differ from fgd-learned's own.
        Assert.NotEqual(SearchDecisions.Of(SearchPolicies.Learned, new Dictionary<string, string>(), 5, openb: true), adaptive);
        // Settings still apply over the chosen weights.
        Assert.Equal(SearchDecisions.Of(SearchPolicies.Learned, new Dictionary<string, string>(settings) { ["tie.gpu.used"] = "-3" }, 5, openb: true),
            SearchDecisions.Of(SearchPolicies.Adaptive, new Dictionary<string, string> { ["tie.gpu.used"] = "-3" }, 5, openb: true));
    }
}
