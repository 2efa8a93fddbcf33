using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Traces;

/// <summary>How DLRM's relative units become absolute requests.</summary>
public sealed record DlrmOptions
{
    /// <summary>rdma_request is a % of one RDMA NIC; this is that NIC's bandwidth in Mbps (default 100 Gbps).</summary>
    public long NicMbps { get; init; } = 100_000;
}

/// <summary>
/// Alibaba's disaggregated DLRM serving trace (cluster-trace-gpu-v2025). cpu in vCPU, memory and disk in GiB
/// (disk becomes ephemeral-storage), gpu 0/1 whole devices, rdma % of a NIC becomes mas.io/network Mbps
/// against <see cref="DlrmOptions.NicMbps"/>. max_instance_per_node (-1 = unlimited) becomes pod labels
/// (mas.io/app, mas.io/max-per-node) that <see cref="Plugins.Filters.MaxInstancesPerNodeFilter"/> enforces.
/// Empty creation time: already running when the trace starts (0); empty deletion: still running at the end.
/// </summary>
public static class DlrmTraceReader
{
    public static readonly string[] Columns =
        ["instance_sn", "role", "app_name", "cpu_request", "gpu_request", "rdma_request", "memory_request", "disk_request", "max_instance_per_node", "creation_time", "deletion_time"];
    private const double GiB = 1024.0 * 1024 * 1024;
    public const string AppLabel = Plugins.Filters.MaxInstancesPerNodeFilter.AppLabel;
    public const string RoleLabel = "mas.io/role";
    public const string MaxPerNodeLabel = Plugins.Filters.MaxInstancesPerNodeFilter.LimitLabel;

    /// <summary>The file is meant as a DLRM trace (its name column is there); a column it lacks is then named by <see cref="ReadPods(CsvTable, DlrmOptions?)"/>.</summary>
    public static bool IsDlrmTable(CsvTable table) => table.HasColumn(Columns[0]);

    public static PodTrace ReadPods(string path, DlrmOptions? options = null) => ReadPods(CsvTable.Read(path), options);

    public static PodTrace ReadPods(CsvTable table, DlrmOptions? options = null)
    {
        options ??= new DlrmOptions();
        table.RequireColumns(Columns);
        var pods = new List<TracePod>(table.Rows.Count);
        var names = new NameColumn("instance_sn");
        foreach (var row in table.All())
        {
            var name = names.Read(row);
            var app = row.Text("app_name");
            var labels = new Dictionary<string, string> { [AppLabel] = app, [RoleLabel] = row.Text("role") };
            // -1 is unlimited; any other value is a cap, judged by the filter's own rule (the one admission applies to the label).
            var maxPerNode = row.Long("max_instance_per_node", -1, int.MaxValue);
            if (maxPerNode != -1 && Plugins.Filters.MaxInstancesPerNodeFilter.CapProblem(maxPerNode, app) is { } problem)
                throw problem.OnApp
                    ? row.Error("app_name", $"empty app_name with max_instance_per_node {maxPerNode}: the cap is per app")
                    : row.Error("max_instance_per_node", $"{problem.Problem} (-1 is unlimited)");
            if (maxPerNode != -1) labels[MaxPerNodeLabel] = maxPerNode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var requests = ResourceVector.Of(
                cpuMilli: row.Stored("cpu_request", 1000.0),
                memoryBytes: row.Stored("memory_request", GiB),
                gpuMilli: row.Long("gpu_request", 0, 64) * ClusterState.MilliPerGpu,
                networkMilli: (long)Math.Round(row.Double("rdma_request", 0, 100) / 100.0 * options.NicMbps * 1000),
                ephemeralBytes: row.Stored("disk_request", GiB));
            var pod = new PodSpec { Name = name, Requests = requests, Labels = labels };
            var (creation, deletion) = row.Lifetime();
            pods.Add(new TracePod(pod, creation ?? 0, deletion));
        }
        string[] notes =
        [
            $"rdma_request (% of one NIC) mapped to mas.io/network against a {options.NicMbps:N0} Mbps NIC.",
            "max_instance_per_node becomes the pod labels mas.io/app + mas.io/max-per-node, enforced by the MaxInstancesPerNode filter.",
            "Empty creation_time = running at trace start (t=0); empty deletion_time = never leaves.",
        ];
        return new PodTrace(table.File, "alibaba-dlrm", pods, notes);
    }
}
