using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Scheduling.Tests;

public class TraceReaderTests
{
    private const string PodHeader = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";

    [Fact]
    public void Openb_nodes_become_node_specs_with_the_gpu_model_label()
    {
        var path = Fixtures.TempFile("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,96000,262144,8,V100M32\nn1,32000,131072,0,\n");
        var nodes = OpenbTraceReader.ReadNodes(path);
        Assert.Equal(2, nodes.Count);
        Assert.Equal(96_000, nodes[0].Capacity.CpuMilli);
        Assert.Equal(262144L * 1024 * 1024, nodes[0].Capacity.MemoryBytes);
        Assert.Equal(8_000, nodes[0].Capacity.GpuMilli);
        Assert.Equal("V100M32", nodes[0].GpuModel);
        Assert.Null(nodes[1].GpuModel);
    }

    [Fact]
    public void Openb_pods_map_gpu_count_times_milli_and_gpu_spec_to_affinity()
    {
        var path = Fixtures.TempFile("pods.csv", PodHeader + "\n" +
            "p-share,4000,15258,1,300,,BE,Running,10,20,10\n" +
            "p-two,16000,32768,2,1000,V100M16|V100M32,LS,Running,0,100,0\n" +
            "p-cpu,2000,4096,0,0,,BE,Running,5,,5\n");
        var trace = OpenbTraceReader.ReadPods(path);
        Assert.Equal("openb-pods", trace.Format);
        var share = trace.Pods[0];
        Assert.Equal(300, share.Pod.Requests.GpuMilli);
        Assert.True(share.Pod.Gpu.IsShared);
        Assert.Equal(10, share.CreationSeconds);
        Assert.Equal(20, share.DeletionSeconds);
        var two = trace.Pods[1].Pod;
        Assert.Equal(2000, two.Requests.GpuMilli);
        Assert.Equal(2, two.Gpu.Count);
        Assert.Equal("V100M16|V100M32", PodShape.GpuModelsOf(two));
        var requirement = Assert.Single(two.Affinity!.NodeAffinity!.RequiredDuringSchedulingIgnoredDuringExecution!.NodeSelectorTerms[0].MatchExpressions!);
        Assert.Equal(ResourceNames.GpuProductLabel, requirement.Key);
        Assert.Equal(["V100M16", "V100M32"], requirement.Values!);
        Assert.Null(trace.Pods[2].DeletionSeconds);
        Assert.Null(trace.Pods[2].Pod.Affinity);
    }

    [Fact]
    public void Five_column_pod_lists_are_read_without_times()
    {
        var path = Fixtures.TempFile("pods5.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\na,12000,16384,1,1000\nb,6000,12288,1,460\n");
        var trace = TraceLoader.LoadPods(path);
        Assert.Equal("openb-pods-untimed", trace.Format);
        Assert.Equal([1000L, 460L], trace.Pods.Select(p => p.Pod.Requests.GpuMilli));
        Assert.All(trace.Pods, p => Assert.Null(p.CreationSeconds));
    }

    /// <summary>
    /// The format label says whether the file had times, whatever else it had: a 6-column file (with gpu_spec) was
    /// labelled "openb-pods-5col" in summary.json and report.md, as any file without times was.
    /// </summary>
    [Theory]
    [InlineData("name,cpu_milli,memory_mib,num_gpu,gpu_milli", "a,12000,16384,1,1000", "openb-pods-untimed")]
    [InlineData("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec", "a,12000,16384,1,1000,V100M32", "openb-pods-untimed")]
    [InlineData("name,cpu_milli,memory_mib,num_gpu,gpu_milli,qos", "a,12000,16384,1,1000,LS", "openb-pods-untimed")]
    [InlineData("name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time,deletion_time", "a,12000,16384,1,1000,0,10", "openb-pods")]
    // The paper's 11 columns (data/traces/openb/openb_pod_list_default.csv's header).
    [InlineData("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time", "a,12000,16384,1,1000,,LS,Running,0,10,0", "openb-pods")]
    public void The_format_label_says_whether_the_pod_list_has_times(string header, string row, string format) =>
        Assert.Equal(format, TraceLoader.LoadPods(Fixtures.TempFile("pods.csv", $"{header}\n{row}\n")).Format);

    [Theory]
    [InlineData("a,12x00,16384,1,1000", 2, "cpu_milli", "'12x00' is not an integer")]
    [InlineData("a,12000,16384,2,500", 2, "gpu_milli", "multi-GPU pods use whole GPUs")]
    [InlineData("a,12000,16384,0,300", 2, "gpu_milli", "with num_gpu=0")]
    [InlineData("a,12000,16384,1,1200", 2, "gpu_milli", "out of range")]
    public void Malformed_pod_rows_name_file_line_and_column(string row, int line, string column, string problem)
    {
        var path = Fixtures.TempFile("bad.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n" + row + "\n");
        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.LoadPods(path));
        Assert.Equal(path, e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains(problem, e.Message);
        Assert.StartsWith($"{path}:{line}: column '{column}'", e.Message);
    }

    [Fact]
    public void Rows_with_the_wrong_field_count_are_rejected_with_their_line()
    {
        var path = Fixtures.TempFile("short.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\na,1,1,0,0\nb,1,1\n");
        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.LoadPods(path));
        Assert.Equal(3, e.Line);
        Assert.Contains("expected 5 fields", e.Message);
    }

    [Fact]
    public void A_trace_with_only_its_header_names_the_file()
    {
        var pods = Fixtures.TempFile("pods.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n");
        Assert.Equal($"{pods}:2: no pods: the file has only its header row", Assert.Throws<TraceFormatException>(() => TraceLoader.LoadPods(pods)).Message);
        var nodes = Fixtures.TempFile("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\n");
        Assert.Equal($"{nodes}:2: no nodes: the file has only its header row", Assert.Throws<TraceFormatException>(() => TraceLoader.LoadNodes(nodes)).Message);
    }

    [Fact]
    public void A_directory_is_not_taken_for_a_missing_file()
    {
        var directory = Path.GetDirectoryName(Fixtures.TempFile("pods.csv", ""))!;
        Assert.Equal($"trace file {directory} is a directory, not a CSV file", Assert.Throws<FileNotFoundException>(() => TraceLoader.LoadPods(directory)).Message);
    }

    [Fact]
    public void Unknown_headers_are_rejected()
    {
        var path = Fixtures.TempFile("x.csv", "foo,bar\n1,2\n");
        var e = Assert.Throws<TraceFormatException>(() => TraceLoader.LoadPods(path));
        Assert.Contains("unrecognized pod trace header", e.Message);
    }

    [Fact]
    public void Dlrm_rows_map_units_against_the_nic_bandwidth()
    {
        var path = Fixtures.TempFile("dlrm.csv",
            "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n" +
            "i0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,\n" +
            "i1,CN,app_1,8,8,0,0,1,1,40.0,40.0,85.0,85.0,-1,100,101,900\n");
        var trace = DlrmTraceReader.ReadPods(path, new DlrmOptions { NicMbps = 200_000 });
        var hn = trace.Pods[0];
        Assert.Equal(12_000, hn.Pod.Requests.CpuMilli);
        Assert.Equal(1000, hn.Pod.Requests.GpuMilli);
        Assert.Equal(120 * Fixtures.Gi, hn.Pod.Requests.MemoryBytes);
        Assert.Equal(640 * Fixtures.Gi, hn.Pod.Requests[ResourceKind.EphemeralStorage]);
        Assert.Equal(50_000L * 1000, hn.Pod.Requests[ResourceKind.Network]); // 25% of 200 Gbps, in milli-Mbps
        Assert.Equal("8", hn.Pod.Labels[DlrmTraceReader.MaxPerNodeLabel]);
        Assert.Equal(0, hn.CreationSeconds);
        Assert.Null(hn.DeletionSeconds);
        Assert.False(trace.Pods[1].Pod.Labels.ContainsKey(DlrmTraceReader.MaxPerNodeLabel));
        Assert.Equal(900, trace.Pods[1].DeletionSeconds);
    }

    [Fact]
    public void Generator_spec_builds_identical_nodes()
    {
        var nodes = NodeGenerator.Generate("gen:count=3,cpu=96,memory=512Gi,gpu=8,network=100000,disk=2000Gi,model=A10");
        Assert.Equal(3, nodes.Count);
        Assert.Equal(["gen-node-0000", "gen-node-0001", "gen-node-0002"], nodes.Select(n => n.Name));
        Assert.All(nodes, n =>
        {
            Assert.Equal(96_000, n.Capacity.CpuMilli);
            Assert.Equal(512 * Fixtures.Gi, n.Capacity.MemoryBytes);
            Assert.Equal(8_000, n.Capacity.GpuMilli);
            Assert.Equal(100_000L * 1000, n.Capacity[ResourceKind.Network]);
            Assert.Equal(2000 * Fixtures.Gi, n.Capacity[ResourceKind.EphemeralStorage]);
            Assert.Equal("A10", n.GpuModel);
        });
    }

    [Theory]
    [InlineData("gen:cpu=96", "'count' must be a positive integer")]
    [InlineData("gen:count=2,cores=4", "unknown key 'cores'")]
    [InlineData("gen:count=2,memory=lots", "'lots' is not a valid quantity for 'memory'")]
    public void Bad_generator_specs_say_what_is_wrong(string spec, string problem)
    {
        var e = Assert.Throws<FormatException>(() => NodeGenerator.Generate(spec));
        Assert.Contains(problem, e.Message);
    }
}
