using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Search;

/// <summary>
/// Registers `fgd-weighted` (<see cref="WeightedFgd"/> with <see cref="TypicalPodWeights.Tuned"/>), `fgd-device` and `fgd-ties`
/// (the same with the <see cref="FgdChoiceRules"/> device rule and tie orders) and `fgd-lookahead`: FGD's filters and device
/// choice, the node chosen by <see cref="FragmentationLookahead"/>.
/// Settings: "k" (candidates, default 4), "gamma" (weight of the next arrival, default 1; 0 = exactly FGD), "tie" (the
/// order among FGD's equal scores before the simulator's name order: rank, fullest, used, emptiest, cpu-fullest) and
/// "score" (rounded: FGD's integer score, exact: the exact fragmentation change).
/// </summary>
public static class SearchPolicies
{
    public const string Lookahead = "fgd-lookahead";

    public const string Weighted = "fgd-weighted";

    public const string Device = "fgd-device";

    public const string Ties = "fgd-ties";

    public const string Learned = "fgd-learned";

    public const string Adaptive = "fgd-adaptive";

    public const string AdaptiveWide = "fgd-adaptive-wide";

    /// <summary>`fgd-device` unless set: the exact device rule, FGD's name order among equal scores.</summary>
    public static readonly FgdChoiceRules DeviceDefaults = new(DeviceRule.Exact, CpuPodTieOrder.Rank, GpuPodTieOrder.Rank);

    /// <summary>`fgd-ties` unless set: the best combination measured on the training workloads (docs/learning.md, session 7).</summary>
    public static readonly FgdChoiceRules TiesDefaults = new(DeviceRule.Exact, CpuPodTieOrder.NoIdleGpu, GpuPodTieOrder.Used);

    public static void Register(PolicyCatalog catalog)
    {
        catalog.Register(Weighted, "FGD over typical pods reweighted toward small GPU shares (tuned w.shared=2, w.power=-2; settings w.shared, w.power, w.cpu, w.multi).",
            o => WeightedFgd.Create(Weighted, TypicalPodWeights.Tuned.With(o.Settings), o));
        catalog.Register(Device, "fgd-weighted with another shared-GPU device rule (setting device: paper, exact, exact-tightest, rounded-tightest, best-fit; default exact) and optional tie orders (cpu.tie, gpu.tie; weights w.*).",
            o => WeightedFgd.Create(Device, TypicalPodWeights.Tuned.With(o.Settings), DeviceDefaults.With(o.Settings), o));
        catalog.Register(Ties, "FGD over reweighted typical pods (as fgd-weighted), exact shared-GPU device choice, and FGD's equal scores ordered: CPU-only pods to nodes without idle GPU, GPU pods to used nodes (settings as fgd-device).",
            o => WeightedFgd.Create(Ties, TypicalPodWeights.Tuned.With(o.Settings), TiesDefaults.With(o.Settings), o));
        catalog.Register(Learned, "FGD over reweighted typical pods (as fgd-weighted), exact shared-GPU device choice, and FGD's equal scores ordered by learned weights over node features (settings tie.cpu.<feature>, tie.gpu.<feature>, w.*, device).",
            o => CreateLearned(Learned, TieWeights.Learned.With(o.Settings), TypicalPodWeights.Tuned.With(o.Settings), o));
        catalog.Register(Adaptive, "fgd-learned with the weights that did best on the training workload whose mix of typical pods (shared, multi-GPU, CPU-only, model-constrained) is nearest to this one's (settings as fgd-learned, over the chosen weights).",
            o =>
            {
                var expert = AdaptiveFgd.Nearest(TypicalMix.Of(o.TypicalPods ?? []));
                return CreateLearned(Adaptive, expert.Ties.With(o.Settings), expert.Typical.With(o.Settings), o, $"{expert.Weights.Name} weights, the best on {expert.TrainedOn}");
            });
        catalog.Register(AdaptiveWide, "fgd-adaptive with an expert added near each paper family it served worst (share54, spec8, cpu3, cpu22; settings as fgd-learned, over the chosen weights).",
            o =>
            {
                var expert = AdaptiveFgd.Nearest(TypicalMix.Of(o.TypicalPods ?? []), AdaptiveFgd.WideExperts);
                return CreateLearned(AdaptiveWide, expert.Ties.With(o.Settings), expert.Typical.With(o.Settings), o, $"{expert.Weights.Name} weights, the best on {expert.TrainedOn}");
            });
        catalog.Register(Lookahead, "FGD's best k nodes, re-ranked by one-step lookahead over the typical pods (settings k, gamma).", o =>
        {
            var evaluator = new FgdEvaluator(new FragmentationModel(o.TypicalPods ?? []));
            var search = new FragmentationLookahead(evaluator, OptionsFrom(o));
            // One node scores non-zero, so the tie-break never decides.
            return PaperPolicies.Profile(Lookahead, new LookaheadScore(search), new FgdDeviceSelector(evaluator), o, HostTieBreak.LowestName,
                "FGD with one-step lookahead.");
        });
    }

    /// <summary>`fgd-learned` with the given tie weights (the tie order search evaluates its candidates through this).</summary>
    public static SchedulingProfile CreateLearned(string name, TieWeights ties, TypicalPodWeights weights, PolicyOptions o, string? origin = null)
    {
        var device = FgdChoiceRules.DeviceFrom(o.Settings, DeviceDefaults.Device);
        var features = new TieFeatures(o.TypicalPods ?? []);
        return WeightedFgd.Create(name, weights, device, evaluator => new LearnedTieScore(evaluator, features, ties), o,
            $"{weights}, learned tie order {ties}{(origin is null ? "" : $" ({origin})")}");
    }

    public static LookaheadOptions OptionsFrom(PolicyOptions o)
    {
        var defaults = new LookaheadOptions();
        var k = SettingValues.WholeNumber(o.Settings, "k", defaults.Candidates, minimum: 1);
        var gamma = SettingValues.Number(o.Settings, "gamma", defaults.Gamma, minimum: 0);
        return new LookaheadOptions { Candidates = k, Gamma = gamma, Tie = o.Settings.GetValueOrDefault("tie") ?? defaults.Tie,
            ExactDelta = o.Settings.GetValueOrDefault("score") switch
            {
                null or "rounded" => false,
                "exact" => true,
                var other => throw new UserArgumentException($"unknown score '{other}' (known: rounded, exact)"),
            },
        };
    }
}
