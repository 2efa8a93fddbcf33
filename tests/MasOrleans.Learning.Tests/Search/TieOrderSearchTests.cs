using MasOrleans.Learning.Search;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;
using MasOrleans.Scheduling;

namespace MasOrleans.Learning.Tests.Search;

public class TieOrderSearchTests
{
    private static (IReadOnlyList<NodeSpec> Nodes, Workload Workload) Small()
    {
        var (nodes, pods) = Support.SampledOpenb.Load(48);
        return (nodes, new Workload("sampled", "training variant", pods.Select(p => new TracePod(p)).ToList()));
    }

    private static PolicyCatalog Catalog() => SearchDecisions.Catalog();

    [Fact]
    public void The_search_starts_at_the_hand_rules_moves_to_its_elite_and_repeats_per_seed()
    {
        var (nodes, workload) = Small();
        var options = new TieSearchOptions { Generations = 2, Population = 4, Elite = 2, Seed = 7, WorstWeight = 0.5 };
        var run = new TieOrderSearch(Catalog(), new ReplaySettings(), options).Run(nodes, [workload], [1000], "fgd");

        // Generation 0 evaluates the hand rules (its first sample is its mean); their gain is fgd-ties' over fgd, which the
        // comparison tool measures on its own path.
        var start = run[0].Ranked.Single(c => c.Weights.ToVector().SequenceEqual(TieWeights.HandRules.ToVector()));
        var tool = new PolicyComparison(Catalog(), new ReplaySettings()).Compare(nodes, [workload], "fgd", [SearchPolicies.Ties], [1000]).Single();
        Assert.Equal(tool.MeanGain, start.Gains["sampled"], 9);
        // One workload: objective = gain + 0.5 x the same gain.
        Assert.Equal(1.5 * start.Gains["sampled"], start.Objective, 9);
        Assert.Equal(run[0].Ranked.Max(c => c.Objective), run[0].Ranked[0].Objective);

        // Generation 1's mean (its first candidate) is the average of generation 0's two best.
        var elite = run[0].Ranked.Take(2).Select(c => c.Weights.ToVector()).ToList();
        var mean = run[1].Ranked.Select(c => c.Weights.ToVector()).Single(v => v.Select((x, i) => Math.Abs(x - (elite[0][i] + elite[1][i]) / 2)).Max() < 1e-12);
        Assert.Equal(2 * TieFeatures.Count, mean.Length);

        var again = new TieOrderSearch(Catalog(), new ReplaySettings(), options).Run(nodes, [workload], [1000], "fgd");
        Assert.Equal(run.SelectMany(g => g.Ranked.Select(c => (c.Objective, string.Join(',', c.Weights.ToVector())))),
            again.SelectMany(g => g.Ranked.Select(c => (c.Objective, string.Join(',', c.Weights.ToVector())))));
        var other = new TieOrderSearch(Catalog(), new ReplaySettings(), options with { Seed = 8 }).Run(nodes, [workload], [1000], "fgd");
        Assert.NotEqual(run[0].Ranked.Select(c => string.Join(',', c.Weights.ToVector())).Order(), other[0].Ranked.Select(c => string.Join(',', c.Weights.ToVector())).Order());
    }

    [Fact]
    public void A_search_over_the_typical_weights_and_crossings_replays_each_candidate_with_its_own_settings()
    {
        var (nodes, workload) = Small();
        var options = new TieSearchOptions
        {
            Generations = 1, Population = 4, Elite = 2, Seed = 3, InitialSpread = 1, SearchTypical = true, SearchCross = true,
            Start = TieWeights.HandRules with { CpuCross = 0.5 },
        };
        var run = new TieOrderSearch(Catalog(), new ReplaySettings(), options).Run(nodes, [workload], [1000], "fgd");
        // The mean (the first sample) is the start: the hand rules, a CPU crossing of 0.5 and fgd-weighted's tuned weights.
        var start = run[0].Ranked.Single(c => c.Weights.ToVector().SequenceEqual(TieWeights.HandRules.ToVector()));
        Assert.Equal((0.5, 0.0), (start.Weights.CpuCross, start.Weights.GpuCross));
        Assert.Equal(TypicalPodWeights.Tuned, start.Typical);
        // The other samples move the typical weights and the crossings too (never below 0), and each candidate's gain is what
        // the comparison tool measures for fgd-learned with that candidate's settings.
        Assert.Equal(4, run[0].Ranked.Select(c => c.Typical).Distinct().Count());
        Assert.All(run[0].Ranked, c => Assert.True(c.Weights.CpuCross >= 0 && c.Weights.GpuCross >= 0));
        Assert.True(run[0].Ranked.Select(c => (c.Weights.CpuCross, c.Weights.GpuCross)).Distinct().Count() > 1, "the crossings are searched");
        foreach (var candidate in run[0].Ranked.Where(c => c != start).Take(2).Append(start))
        {
            var tool = new PolicyComparison(Catalog(), new ReplaySettings { PolicySettings = candidate.Settings })
                .Compare(nodes, [workload], "fgd", [SearchPolicies.Learned], [1000]).Single();
            Assert.Equal(tool.MeanGain, candidate.Gains["sampled"], 9);
        }
        Assert.Contains("must start above 0", Assert.Throws<UserArgumentException>(() => new TieOrderSearch(Catalog(), new ReplaySettings(),
            options with { StartTypical = new TypicalPodWeights { CpuOnly = 0 } }).Run(nodes, [workload], [1000], "fgd")).Message);
    }

    [Fact]
    public void Bad_search_settings_are_named()
    {
        var (nodes, workload) = Small();
        Assert.Contains("elite must be from 1 to the population (4), got 5", Assert.Throws<UserArgumentException>(() =>
            new TieOrderSearch(Catalog(), new ReplaySettings(), new TieSearchOptions { Population = 4, Elite = 5 }).Run(nodes, [workload], [1000], "fgd")).Message);
        Assert.Contains("unknown policy 'fdg'", Assert.Throws<UnknownPolicyException>(() =>
            new TieOrderSearch(Catalog(), new ReplaySettings(), new TieSearchOptions()).Run(nodes, [workload], [1000], "fdg")).Message);
        // A weight among the replay's settings would be overridden by every candidate's: refused, by name.
        foreach (var key in new[] { "w.power", "tie.gpu.used", "tie.cpu.cross" })
            Assert.Contains($"setting {key} is the search's to set", Assert.Throws<UserArgumentException>(() =>
                new TieOrderSearch(Catalog(), new ReplaySettings { PolicySettings = new Dictionary<string, string> { [key] = "1" } }, new TieSearchOptions())
                    .Run(nodes, [workload], [1000], "fgd")).Message);
    }
}
