using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Traces;

/// <summary>Picks the reader from the argument: a generator spec, or a CSV recognized by its header.</summary>
public static class TraceLoader
{
    public static IReadOnlyList<NodeSpec> LoadNodes(string source)
    {
        if (NodeGenerator.IsSpec(source)) return NodeGenerator.Generate(source);
        var table = CsvTable.Read(source);
        var nodes = OpenbTraceReader.IsNodeTable(table)
            ? OpenbTraceReader.ReadNodes(table)
            : throw new TraceFormatException(source, 1, null,
                $"not a node list: expected columns {string.Join(",", OpenbTraceReader.NodeColumns)} or a '{NodeGenerator.Prefix}' spec");
        return nodes.Count > 0 ? nodes : throw new TraceFormatException(source, 2, null, "no nodes: the file has only its header row");
    }

    public static PodTrace LoadPods(string path, DlrmOptions? dlrm = null)
    {
        var table = CsvTable.Read(path);
        var trace = DlrmTraceReader.IsDlrmTable(table) ? DlrmTraceReader.ReadPods(table, dlrm)
            : OpenbTraceReader.IsPodTable(table) ? OpenbTraceReader.ReadPods(table)
            : throw new TraceFormatException(path, 1, null,
                $"unrecognized pod trace header ({string.Join(",", table.Header)}): expected openb ({string.Join(",", OpenbTraceReader.PodColumns)}[,...]) or Alibaba DLRM columns");
        // Nothing to replay: the replay would stop later at "the trace has no pods (Parameter 'tracePods')", naming no file.
        return trace.Pods.Count > 0 ? trace : throw new TraceFormatException(path, 2, null, "no pods: the file has only its header row");
    }
}
