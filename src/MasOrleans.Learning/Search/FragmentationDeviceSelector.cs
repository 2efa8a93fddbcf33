using MasOrleans.Scheduling;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Devices;
using MasOrleans.Scheduling.Plugins.Paper;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Learning.Search;

/// <summary>How a GPU-sharing pod's device is chosen on the node FGD picked.</summary>
public enum DeviceRule
{
    /// <summary>The simulator's allocateGpuIdBasedOnFGDScore: the highest ROUNDED score sigmoid(ΔF/1000)·100, the first device on ties.</summary>
    Paper,

    /// <summary>The lowest exact F after placement (no rounding), the first device on ties.</summary>
    Exact,

    /// <summary>The lowest exact F after placement, the device with the least free milli on ties.</summary>
    ExactTightest,

    /// <summary>The highest rounded score (as the paper), the device with the least free milli among the equal scores.</summary>
    RoundedTightest,

    /// <summary>The least free milli that fits (the simulator's best-fit device choice), F ignored.</summary>
    BestFit,
}

/// <summary>
/// The device choice of `fgd-device`: for a GPU-sharing pod, F (the <see cref="FragmentationModel"/>'s node fragmentation)
/// is computed after placing it on each fitting device and <see cref="Rule"/> decides; whole-GPU pods take the
/// lowest-numbered free devices, as in FGD (F only sees the multiset of free milli, so that choice changes nothing).
/// The node has already been chosen, so this costs one node's F per fitting device, once per decision.
/// </summary>
public sealed class FragmentationDeviceSelector(FragmentationModel model, DeviceRule rule) : IGpuDeviceSelector
{
    public string Name => $"fragmentation-{Rule}";
    public DeviceRule Rule { get; } = rule;

    public GpuAllocation Select(ClusterState cluster, int node, PodSpec pod)
    {
        var gpu = pod.Gpu;
        if (gpu.IsNone) return GpuAllocation.None;
        if (!gpu.IsShared || Rule == DeviceRule.BestFit) return BestFitDeviceSelector.Instance.Select(cluster, node, pod);
        var device = Choose(cluster.Free(ResourceKind.Cpu, node), cluster.GpuFreeOf(node), gpu.MilliPerGpu, ClusterState.NonZeroCpuOf(pod),
            model.AccessFor(cluster.Spec(node).GpuModel));
        return device < 0 ? GpuAllocation.None : new GpuAllocation([device], gpu.MilliPerGpu);
    }

    /// <summary>The device for a share of <paramref name="milli"/> on a node with these free resources, or -1 when none fits.</summary>
    public int Choose(long cpuFree, ReadOnlySpan<int> free, int milli, long cpu, bool[] access)
    {
        var before = model.NodeFragment(cpuFree, free, access);
        Span<int> after = free.Length <= 64 ? stackalloc int[free.Length] : new int[free.Length];
        free.CopyTo(after);
        var best = -1;
        double bestFragment = 0;
        long bestScore = 0;
        for (var g = 0; g < free.Length; g++)
        {
            if (free[g] < milli) continue;
            after[g] -= milli;
            var fragment = model.NodeFragment(cpuFree - cpu, after, access);
            after[g] += milli;
            var score = FgdEvaluator.ScoreOf(before, fragment);
            var better = best < 0 || Rule switch
            {
                DeviceRule.Paper => score > bestScore,
                DeviceRule.Exact => fragment < bestFragment,
                DeviceRule.ExactTightest => fragment < bestFragment || (fragment == bestFragment && free[g] < free[best]),
                DeviceRule.RoundedTightest => score > bestScore || (score == bestScore && free[g] < free[best]),
                _ => throw new InvalidOperationException($"rule {Rule} does not compare fragments"),
            };
            if (!better) continue;
            best = g;
            bestFragment = fragment;
            bestScore = score;
        }
        return best;
    }

    public static DeviceRule RuleFrom(string? text) => text switch
    {
        "paper" => DeviceRule.Paper,
        null or "exact" => DeviceRule.Exact,
        "exact-tightest" => DeviceRule.ExactTightest,
        "rounded-tightest" => DeviceRule.RoundedTightest,
        "best-fit" => DeviceRule.BestFit,
        _ => throw new UserArgumentException($"unknown device '{text}' (known: paper, exact, exact-tightest, rounded-tightest, best-fit)"),
    };
}
