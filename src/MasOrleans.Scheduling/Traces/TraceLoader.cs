using MasOrleans.Scheduling.Model;

namespace MasOrleans.Scheduling.Traces;

/// <summary>Picks the reader from the argument: a generator spec, or a CSV recognized by its header.</summary>
public static class TraceLoader
{
    public static IReadOnlyList<NodeSpec> LoadNodes(string source)
    {
        if (NodeGenerator.IsSpec(source)) return NodeGenerator.Generate(source);
        var table = CsvTable.Read(source);
        return OpenbTraceReader.IsNodeTable(table)
            ? OpenbTraceReader.ReadNodes(table)
            : throw new TraceFormatException(source, 1, null,
                $"not a node list: expected columns {string.Join(",", OpenbTraceReader.NodeColumns)} or a '{NodeGenerator.Prefix}' spec");
    }

    public static PodTrace LoadPods(string path, DlrmOptions? dlrm = null)
    {
        var table = CsvTable.Read(path);
        if (DlrmTraceReader.IsDlrmTable(table)) return DlrmTraceReader.ReadPods(table, dlrm);
        if (OpenbTraceReader.IsPodTable(table)) return OpenbTraceReader.ReadPods(table);
        throw new TraceFormatException(path, 1, null,
            $"unrecognized pod trace header ({string.Join(",", table.Header)}): expected openb ({string.Join(",", OpenbTraceReader.PodColumns)}[,...]) or Alibaba DLRM columns");
    }
}
