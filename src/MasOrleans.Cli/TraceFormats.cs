using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Cli;

/// <summary>
/// What the trace options' help says about the CSVs they take, built from the readers' own column names, so that a
/// researcher bringing a trace can write one from --help (it said "openb (11 or 5 columns)" and named none).
/// </summary>
internal static class TraceFormats
{
    public static readonly string OpenbNodes =
        $"openb node list CSV with a header: {string.Join(",", OpenbTraceReader.NodeColumns)} (CPU in milli-cores, memory in MiB, " +
        "GPU devices per node, the GPU model, which may be empty)";

    public static readonly string OpenbPods =
        $"openb pod list CSV with a header: {string.Join(",", OpenbTraceReader.PodColumns)} (GPU request = num_gpu x gpu_milli " +
        "per device: 1,300 is a 300m share of one GPU, 2,1000 two whole GPUs), optional gpu_spec (GPU models A|B) and " +
        $"{CsvTable.Row.CreationColumn},{CsvTable.Row.DeletionColumn} (seconds, both or neither); columns found by name, others ignored";
}
