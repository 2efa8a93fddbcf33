using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Learning.Search;

/// <summary>
/// What `fgd-device` and `fgd-ties` change in FGD besides the typical pods' weights: the shared-GPU device rule and the order
/// among FGD's equal node scores for CPU-only and for GPU pods. Settings "device", "cpu.tie", "cpu.remnant" and "gpu.tie"
/// override a policy's defaults.
/// </summary>
public sealed record FgdChoiceRules(DeviceRule Device, CpuPodTieOrder CpuTie, GpuPodTieOrder GpuTie, int CpuRemnantMilli = 0)
{
    /// <summary>FGD's own: the rounded score's first device, ties to the name order.</summary>
    public static readonly FgdChoiceRules Paper = new(DeviceRule.Paper, CpuPodTieOrder.Rank, GpuPodTieOrder.Rank);

    /// <summary>The "device" setting, or <paramref name="fallback"/> when unset.</summary>
    public static DeviceRule DeviceFrom(IReadOnlyDictionary<string, string> settings, DeviceRule fallback) =>
        settings.TryGetValue("device", out var device) ? FragmentationDeviceSelector.RuleFrom(device) : fallback;

    public FgdChoiceRules With(IReadOnlyDictionary<string, string> settings) => new(
        DeviceFrom(settings, Device),
        settings.TryGetValue("cpu.tie", out var cpu) ? TieOrderedFgdScore.OrderFrom(cpu) : CpuTie,
        settings.TryGetValue("gpu.tie", out var gpu) ? TieOrderedFgdScore.GpuOrderFrom(gpu) : GpuTie,
        SettingValues.WholeNumber(settings, "cpu.remnant", CpuRemnantMilli, minimum: 0, maximum: 999)); // milli of a core
}
