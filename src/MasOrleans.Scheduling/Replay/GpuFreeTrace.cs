using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Replay;

/// <summary>
/// A trace none of whose pods asks for a GPU, run in paper mode: the protocol reads GPU allocation against arrived GPU
/// demand and tunes arrivals by it (<see cref="PaperArrivals"/>), so with no GPU demand `allocAt130` is 0 (`allocAt100`
/// never read) and `--tune` adds no pods. The run said nothing of it.
/// </summary>
public static class GpuFreeTrace
{
    /// <summary>Whether any pod asks for a GPU: what paper mode's readings and tuning are measured in.</summary>
    public static bool HasGpuDemand(IEnumerable<PodSpec> pods) => pods.Any(p => p.Requests.GpuMilli > 0);

    /// <summary>One sentence saying paper mode's GPU readings mean nothing for the trace; null when some pod asks for a GPU or in timed mode.</summary>
    public static string? Note(IEnumerable<PodSpec> pods, string trace, ReplayMode mode) =>
        mode != ReplayMode.Paper || HasGpuDemand(pods) ? null
            : $"no pod of {trace} asks for a GPU, so GPU allocation is undefined for it in paper mode, which measures and tunes "
            + "arrivals by GPU demand: allocAt130 reads 0 and --tune adds no pods";
}
