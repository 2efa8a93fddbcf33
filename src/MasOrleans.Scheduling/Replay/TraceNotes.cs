using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Replay;

/// <summary>A trace's own faults that replay, evaluate and train warn of (and replay keeps in summary.json's traceNotes).</summary>
public static class TraceNotes
{
    /// <summary>Each note that applies, in the order the tools print them: pods no node can hold, then a GPU-free paper trace.</summary>
    public static IReadOnlyList<string> Of(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<PodSpec> pods, string trace, ReplayMode mode) =>
        [.. new[] { UnplaceablePods.Note(nodes, pods, trace, mode), GpuFreeTrace.Note(pods, trace, mode) }.OfType<string>()];
}
