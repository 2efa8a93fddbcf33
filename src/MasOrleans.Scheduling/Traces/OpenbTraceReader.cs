using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Traces;

/// <summary>
/// The FGD paper's openb CSVs (Alibaba GPU cluster 2023). Nodes: sn,cpu_milli,memory_mib,gpu,model; the model
/// becomes the nvidia.com/gpu.product label. Pods: any header holding name,cpu_milli,memory_mib,num_gpu,gpu_milli
/// (found by name, in any order; other columns ignored), optionally gpu_spec and creation_time,deletion_time.
/// num_gpu x gpu_milli is the GPU request (1 x 300 = a 300m share of one device; 2 x 1000 = two whole devices);
/// gpu_spec "A|B" becomes a required node affinity nvidia.com/gpu.product In [A, B].
/// </summary>
public static class OpenbTraceReader
{
    public static readonly string[] NodeColumns = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];
    public static readonly string[] PodColumns = ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"];
    private const long MiB = 1024L * 1024;
    public const int SimulatorMaxPods = 1001;

    /// <summary>
    /// The format a pod list is reported as (summary.json's traceFormat, report.md): with its times, or without them (paper
    /// mode only). Times are what change how a file replays; a gpu_spec column or ignored ones do not (an absent gpu_spec
    /// reads as an empty one). The untimed label was "openb-pods-5col", also for a file with gpu_spec or other columns.
    /// </summary>
    public const string TimedFormat = "openb-pods", UntimedFormat = "openb-pods-untimed";

    // A file is meant as a node or pod list when its name column is there; a column it lacks is then named by the reader.
    public static bool IsNodeTable(CsvTable table) => table.HasColumn(NodeColumns[0]);
    public static bool IsPodTable(CsvTable table) => table.HasColumn(PodColumns[0]);

    public static IReadOnlyList<NodeSpec> ReadNodes(string path) => ReadNodes(CsvTable.Read(path));

    public static IReadOnlyList<NodeSpec> ReadNodes(CsvTable table)
    {
        table.RequireColumns(NodeColumns);
        var nodes = new List<NodeSpec>(table.Rows.Count);
        var names = new NameColumn("sn");
        foreach (var row in table.All())
        {
            var name = names.Read(row);
            var gpus = row.Long("gpu", 0, 64);
            var model = row.OptionalText("model");
            var labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name };
            if (model is not null) labels[ResourceNames.GpuProductLabel] = model;
            nodes.Add(new NodeSpec
            {
                Name = name,
                Capacity = ResourceVector.Of(cpuMilli: row.Stored("cpu_milli", 1), memoryBytes: row.Stored("memory_mib", MiB), gpuMilli: gpus * ClusterState.MilliPerGpu),
                Labels = labels,
                // The simulator's openb nodes allow 1001 pods (data/node_yaml/openb_node_list_gpu_node.yaml, pods: '1001').
                MaxPods = SimulatorMaxPods,
            });
        }
        return nodes;
    }

    public static PodTrace ReadPods(string path) => ReadPods(CsvTable.Read(path));

    public static PodTrace ReadPods(CsvTable table)
    {
        table.RequireColumns(PodColumns);
        // One time column without the other is a mistake, not a file without times: both are required then.
        var timed = table.HasColumn(CsvTable.Row.CreationColumn) || table.HasColumn(CsvTable.Row.DeletionColumn);
        if (timed) table.RequireColumns(CsvTable.Row.CreationColumn, CsvTable.Row.DeletionColumn);
        var pods = new List<TracePod>(table.Rows.Count);
        var names = new NameColumn("name");
        foreach (var row in table.All())
        {
            var name = names.Read(row);
            var pod = new PodSpec
            {
                Name = name,
                Requests = ResourceVector.Of(cpuMilli: row.Stored("cpu_milli", 1), memoryBytes: row.Stored("memory_mib", MiB), gpuMilli: GpuMilli(row)),
                Affinity = GpuModelAffinity(row.OptionalText("gpu_spec")),
            };
            var (creation, deletion) = timed ? row.Lifetime() : (null, null);
            pods.Add(new TracePod(pod, creation, deletion));
        }
        var notes = timed ? new List<string>() : ["openb pod list without creation_time and deletion_time: no times (paper mode only)."];
        return new PodTrace(table.File, timed ? TimedFormat : UntimedFormat, pods, notes);
    }

    private static long GpuMilli(CsvTable.Row row)
    {
        var count = row.Long("num_gpu", 0, 64);
        var milli = row.Long("gpu_milli", 0, ClusterState.MilliPerGpu);
        if (count == 0 && milli != 0) throw row.Error("gpu_milli", $"{milli} with num_gpu=0");
        if (count > 0 && milli == 0) throw row.Error("gpu_milli", $"0 with num_gpu={count}");
        if (count > 1 && milli != ClusterState.MilliPerGpu) throw row.Error("gpu_milli", $"{milli} with num_gpu={count}: multi-GPU pods use whole GPUs (1000)");
        return count * milli;
    }

    /// <summary>Required node affinity on the GPU model label, or null when any model will do.</summary>
    public static Affinity? GpuModelAffinity(string? gpuSpec)
    {
        var models = gpuSpec?.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (models is not { Length: > 0 }) return null;
        var requirement = new NodeSelectorRequirement(ResourceNames.GpuProductLabel, SelectorOperators.In, models);
        return new Affinity(new NodeAffinity(new NodeSelector([new NodeSelectorTerm([requirement])])));
    }
}
