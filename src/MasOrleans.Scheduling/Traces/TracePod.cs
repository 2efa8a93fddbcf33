using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Traces;

/// <summary>A pod from a trace with its lifetime in trace seconds (null: before or after the trace window).</summary>
public sealed record TracePod(PodSpec Pod, double? CreationSeconds = null, double? DeletionSeconds = null);

/// <summary>Pods and where they came from, plus what the reader had to assume.</summary>
public sealed record PodTrace(string Source, string Format, IReadOnlyList<TracePod> Pods, IReadOnlyList<string> Notes);
