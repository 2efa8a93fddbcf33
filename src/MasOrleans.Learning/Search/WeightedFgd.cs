using System.Globalization;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Search;

/// <summary>
/// Weights on FGD's typical pods: p'_m ∝ p_m · factor(m), renormalized to sum to 1, where factor is
/// <see cref="Shared"/> · (milli/1000)^<see cref="SharePower"/> for a GPU share, <see cref="CpuOnly"/> for a CPU-only
/// shape, <see cref="MultiGpu"/> for several whole GPUs, and 1 for one whole GPU. All 1 and power 0 is FGD.
/// </summary>
public sealed record TypicalPodWeights
{
    /// <summary>
    /// The weights `fgd-weighted` and `fgd-ties` use unless set: the best mean gain over fgd on the default trace and the
    /// training variants at training seeds 1000..1001 in a grid of 24 settings (docs/learning.md, "Beating FGD"); with
    /// fgd-ties' tie orders on, a grid of 27 settings at seeds 1000..1007 found the same weights best (session 7).
    /// </summary>
    public static readonly TypicalPodWeights Tuned = new() { Shared = 2, SharePower = -2 };

    public double Shared { get; init; } = 1;
    public double SharePower { get; init; }
    public double CpuOnly { get; init; } = 1;
    public double MultiGpu { get; init; } = 1;

    public double FactorOf(PodShape s) =>
        !s.NeedsGpu ? CpuOnly
        : s.IsShared ? Shared * Math.Pow(s.MilliPerGpu / (double)ClusterState.MilliPerGpu, SharePower)
        : s.GpuCount > 1 ? MultiGpu : 1;

    public IReadOnlyList<TypicalPod> Apply(IReadOnlyList<TypicalPod> typical)
    {
        var weighted = typical.Select(t => t with { Probability = t.Probability * FactorOf(t.Shape) }).ToList();
        var sum = weighted.Sum(t => t.Probability);
        return sum > 0 ? weighted.Select(t => t with { Probability = t.Probability / sum }).ToList() : typical;
    }

    public const string SharedKey = "w.shared";
    public const string PowerKey = "w.power";
    public const string CpuKey = "w.cpu";
    public const string MultiKey = "w.multi";

    /// <summary>The setting names, in the order of <see cref="ToSettings"/>.</summary>
    public static readonly IReadOnlyList<string> Keys = [SharedKey, PowerKey, CpuKey, MultiKey];

    /// <summary>The settings that give these weights.</summary>
    public IReadOnlyDictionary<string, string> ToSettings() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [SharedKey] = Shared.ToString("R", CultureInfo.InvariantCulture),
        [PowerKey] = SharePower.ToString("R", CultureInfo.InvariantCulture),
        [CpuKey] = CpuOnly.ToString("R", CultureInfo.InvariantCulture),
        [MultiKey] = MultiGpu.ToString("R", CultureInfo.InvariantCulture),
    };

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{SharedKey}={Shared:0.###} {PowerKey}={SharePower:0.###} {CpuKey}={CpuOnly:0.###} {MultiKey}={MultiGpu:0.###}");

    /// <summary>Settings w.shared, w.power, w.cpu, w.multi over these defaults.</summary>
    public TypicalPodWeights With(IReadOnlyDictionary<string, string> settings) => new()
    {
        Shared = SettingValues.Number(settings, SharedKey, Shared, minimum: 0),
        SharePower = SettingValues.Number(settings, PowerKey, SharePower),
        CpuOnly = SettingValues.Number(settings, CpuKey, CpuOnly, minimum: 0),
        MultiGpu = SettingValues.Number(settings, MultiKey, MultiGpu, minimum: 0),
    };
}

/// <summary>FGD (same filters, score, device choice and tie-break) over reweighted typical pods.</summary>
public static class WeightedFgd
{
    public static SchedulingProfile Create(string name, TypicalPodWeights weights, PolicyOptions o)
    {
        var evaluator = new FgdEvaluator(new FragmentationModel(weights.Apply(o.TypicalPods ?? [])));
        return PaperPolicies.Profile(name, new FgdScore(evaluator), new FgdDeviceSelector(evaluator), o, PaperPolicies.TieBreakFor(o),
            $"FGD over typical pods reweighted by {weights}.");
    }

    /// <summary>
    /// FGD's node choice over reweighted typical pods (as <see cref="Create(string, TypicalPodWeights, PolicyOptions)"/>), with
    /// the shared pod's device chosen by the rules' <see cref="DeviceRule"/> over F with the same weights, and FGD's equal
    /// scores ordered by the rules' tie orders before the name order. The node score is FGD's best rounded score over the
    /// node's devices whatever the device rule, so with both tie orders Rank the nodes ranked are fgd-weighted's on the
    /// same cluster state, and with <see cref="FgdChoiceRules.Paper"/> every decision is fgd-weighted's.
    /// </summary>
    public static SchedulingProfile Create(string name, TypicalPodWeights weights, FgdChoiceRules rules, PolicyOptions o) =>
        Create(name, weights, rules.Device, evaluator => rules.CpuTie == CpuPodTieOrder.Rank && rules.GpuTie == GpuPodTieOrder.Rank
            ? new FgdScore(evaluator)
            : new TieOrderedFgdScore(evaluator, rules.CpuTie, rules.CpuRemnantMilli, rules.GpuTie), o, $"{weights}, {rules}");

    /// <summary>FGD over reweighted typical pods with the given device rule and a node score built on its evaluator.</summary>
    public static SchedulingProfile Create(string name, TypicalPodWeights weights, DeviceRule device, Func<FgdEvaluator, IScorePlugin> score, PolicyOptions o, string what)
    {
        var model = new FragmentationModel(weights.Apply(o.TypicalPods ?? []));
        return PaperPolicies.Profile(name, score(new FgdEvaluator(model)), new FragmentationDeviceSelector(model, device), o, PaperPolicies.TieBreakFor(o),
            $"FGD over typical pods reweighted by {what}.");
    }
}
