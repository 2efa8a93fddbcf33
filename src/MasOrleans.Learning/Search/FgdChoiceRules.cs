using System.Globalization;

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

    public FgdChoiceRules With(IReadOnlyDictionary<string, string> settings)
    {
        var remnant = CpuRemnantMilli;
        if (settings.TryGetValue("cpu.remnant", out var text) && (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out remnant) || remnant is < 0 or >= 1000))
            throw new ArgumentException($"setting cpu.remnant must be a whole number of milli from 0 to 999, got {text}");
        return new FgdChoiceRules(
            settings.TryGetValue("device", out var device) ? FragmentationDeviceSelector.RuleFrom(device) : Device,
            settings.TryGetValue("cpu.tie", out var cpu) ? TieOrderedFgdScore.OrderFrom(cpu) : CpuTie,
            settings.TryGetValue("gpu.tie", out var gpu) ? TieOrderedFgdScore.GpuOrderFrom(gpu) : GpuTie,
            remnant);
    }
}
