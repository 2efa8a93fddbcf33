using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// What every trace reader does with a bad file: one <see cref="TraceFormatException"/> naming the file, the line and
/// the column, never a silently different replay or another exception.
/// </summary>
public class TraceInputRulesTests
{
    private const string NodeHeader = "sn,cpu_milli,memory_mib,gpu,model";
    private const string Pod5Header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli";
    private const string PodHeader = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";
    private const string DlrmHeader =
        "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time";
    private const string DlrmRow = "HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,";

    /// <summary>The replay keys bindings by name: a second pod of the same name was bound over the first.</summary>
    [Theory]
    [InlineData(DlrmHeader + "\ni0," + DlrmRow + "\ni1," + DlrmRow + "\ni0," + DlrmRow + "\n", "instance_sn", "i0", false)]
    [InlineData(Pod5Header + "\na,1000,1024,1,1000\nb,1000,1024,1,1000\na,1000,1024,1,1000\n", "name", "a", false)]
    [InlineData(NodeHeader + "\na,1000,1024,1,P100\nb,1000,1024,1,P100\na,1000,1024,1,P100\n", "sn", "a", true)]
    public void A_name_given_twice_is_refused_by_every_reader(string content, string column, string name, bool nodes) =>
        AssertAt(Refused(content, nodes), 4, column, $"'{name}' is given twice (first on line 2)");

    [Theory]
    [InlineData(DlrmHeader + "\n ," + DlrmRow + "\n", "instance_sn", false)]
    [InlineData(Pod5Header + "\n,1000,1024,1,1000\n", "name", false)]
    [InlineData(NodeHeader + "\n ,1000,1024,1,P100\n", "sn", true)]
    public void An_empty_name_is_refused_by_every_reader(string content, string column, bool nodes) =>
        AssertAt(Refused(content, nodes), 2, column, "empty name");

    /// <summary>A column twice in the header: which one a row's value came from is a guess (it threw the dictionary's "same key" error, naming no file).</summary>
    [Fact]
    public void A_column_given_twice_in_the_header_is_refused() =>
        AssertAt(Refused("name,cpu_milli,memory_mib,num_gpu,gpu_milli,cpu_milli\na,1,1,0,0,2\n"), 1, "cpu_milli", "column is given twice");

    /// <summary>Unnamed columns are no repeat: pandas writes its index as one, a trailing comma makes another.</summary>
    [Fact]
    public void Unnamed_columns_are_read_by_no_one()
    {
        var path = Fixtures.TempFile("pods.csv", ",name,cpu_milli,memory_mib,num_gpu,gpu_milli,\n0,a,1000,1024,1,1000,\n");
        Assert.Equal(1000, Assert.Single(TraceLoader.LoadPods(path).Pods).Pod.Requests.CpuMilli);
    }

    /// <summary>memory_mib x 1 MiB and GiB x 2^30 overflowed a long unseen: the replay ran with a wrapped (negative or small) request.</summary>
    [Theory]
    // 99999999999999999 MiB = 1.05e23 bytes, above Quantity.MaxStored (2.3e18 bytes).
    [InlineData(Pod5Header + "\na,1000,99999999999999999,1,1000\n", "memory_mib", false)]
    [InlineData(NodeHeader + "\na,1000,99999999999999999,1,P100\n", "memory_mib", true)]
    [InlineData(Pod5Header + "\na,9223372036854775807,1024,1,1000\n", "cpu_milli", false)]
    [InlineData(DlrmHeader + "\ni0,HN,app_0,12,12,1,1,25,25,1e30,1e30,640.0,800.0,8,,,\n", "memory_request", false)]
    [InlineData(DlrmHeader + "\ni0,HN,app_0,1e17,1e17,1,1,25,25,120.0,120.0,640.0,800.0,8,,,\n", "cpu_request", false)]
    public void A_quantity_no_stored_value_can_hold_is_refused(string content, string column, bool nodes) =>
        AssertAt(Refused(content, nodes), 2, column, "out of range");

    [Fact]
    public void The_largest_storable_memory_is_read_exactly()
    {
        // Quantity.MaxStored / 1 MiB = 2199023255551 MiB (by hand: (2^63 - 1) / 4 / 2^20, rounded down).
        var path = Fixtures.TempFile("pods.csv", Pod5Header + "\na,1000,2199023255551,1,1000\n");
        Assert.Equal(2199023255551L * 1024 * 1024, TraceLoader.LoadPods(path).Pods[0].Pod.Requests[ResourceKind.Memory]);
    }

    /// <summary>A pod deleted before it was created ran for 0 s (TimedReplay clamps the lifetime): a silently different replay.</summary>
    [Theory]
    [InlineData(PodHeader + "\na,1000,1024,1,1000,,LS,Running,100,50,100\n")]
    [InlineData(DlrmHeader + "\ni0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,100,100,50\n")]
    public void A_deletion_before_the_creation_is_refused(string content) =>
        AssertAt(Refused(content), 2, "deletion_time", "before creation_time 100");

    /// <summary>
    /// A time near double's maximum (a deletion at 1e308 s) was read, and the timed replay's time-weighted mean allocation
    /// overflowed to infinity: the run ended in the JSON writer's error about .NET's infinity, exit 64, naming no file.
    /// Times past CsvTable.Row.MaxSeconds (1e15 s) are refused with their column, in both readers.
    /// </summary>
    [Theory]
    [InlineData(PodHeader + "\na,1000,1024,1,1000,,LS,Running,0,1e308,0\n", "deletion_time", "1E+308")]
    [InlineData(DlrmHeader + "\ni0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,2e15,2e15,2e15\n", "creation_time", "2000000000000000")]
    public void A_time_past_the_latest_a_trace_may_give_is_refused(string content, string column, string value) =>
        AssertAt(Refused(content), 2, column, $"{value} is out of range [0, 1000000000000000]");

    /// <summary>A pod list with gpu_spec but no times (6 columns) was noted as a "5-column openb pod list".</summary>
    [Fact]
    public void A_pod_list_without_times_is_noted_as_such_whatever_its_columns()
    {
        var trace = TraceLoader.LoadPods(Fixtures.TempFile("pods.csv", Pod5Header + ",gpu_spec\na,1000,1024,1,1000,A10\n"));
        Assert.Equal(["openb pod list without creation_time and deletion_time: no times (paper mode only)."], trace.Notes);
    }

    /// <summary>With one of the two time columns the reader took the trace for an untimed one and dropped the times it had.</summary>
    [Theory]
    [InlineData(Pod5Header + ",creation_time\na,1000,1024,1,1000,5\n", "deletion_time")]
    [InlineData(Pod5Header + ",deletion_time\na,1000,1024,1,1000,5\n", "creation_time")]
    public void One_time_column_without_the_other_is_refused(string content, string missing) =>
        AssertAt(Refused(content), 1, null, $"missing column(s) {missing}");

    /// <summary>A spreadsheet's export quotes fields; the quotes became part of the name and the GPU models.</summary>
    [Fact]
    public void Quoted_fields_are_read_without_their_quotes()
    {
        var path = Fixtures.TempFile("pods.csv", PodHeader + "\n\"a\",1000,1024,1,1000,\"V100M16|V100M32\",LS,Running,0,10,0\n\"b,\"\"c\"\"\",1000,1024,1,1000,,LS,Running,0,10,0\n");
        var pods = TraceLoader.LoadPods(path).Pods;
        Assert.Equal(["a", "b,\"c\""], pods.Select(p => p.Pod.Name));
        var requirement = Assert.Single(pods[0].Pod.Affinity!.NodeAffinity!.RequiredDuringSchedulingIgnoredDuringExecution!.NodeSelectorTerms[0].MatchExpressions!);
        Assert.Equal(["V100M16", "V100M32"], requirement.Values!);
    }

    [Theory]
    [InlineData("\"a,1000,1024,1,1000\n", "name", "unterminated quote")]
    [InlineData("a,1000,1024,1,\"1000\"x\n", "gpu_milli", "text after a closing quote")]
    [InlineData("a\"b,1000,1024,1,1000\n", "name", "a quote inside an unquoted field")]
    public void Broken_quoting_is_refused_with_its_column(string row, string column, string problem) =>
        AssertAt(Refused(Pod5Header + "\n" + row), 2, column, problem);

    /// <summary>A DLRM or openb file short of one column was "unrecognized", naming neither the format nor the column.</summary>
    [Theory]
    [InlineData("disk_request", false)]
    [InlineData("gpu_milli", false)]
    [InlineData("model", true)]
    public void A_missing_column_is_named(string missing, bool nodes)
    {
        var header = (nodes ? NodeHeader : missing == "gpu_milli" ? Pod5Header : DlrmHeader).Split(',');
        var kept = header.Where(c => c != missing).ToArray();
        var row = string.Join(',', kept.Select(c => c is "sn" or "name" or "instance_sn" ? "a" : "1"));
        AssertAt(Refused(string.Join(',', kept) + "\n" + row + "\n", nodes), 1, null, $"missing column(s) {missing}");
    }

    /// <summary>Not a defect: a UTF-8 byte order mark and Windows line ends, as Excel writes them, are read as the plain file.</summary>
    [Fact]
    public void A_byte_order_mark_and_crlf_line_ends_are_read()
    {
        var path = Fixtures.TempFile("pods.csv", "");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.ASCII.GetBytes(Pod5Header + "\r\na,1000,1024,1,300\r\n")]);
        var pod = Assert.Single(TraceLoader.LoadPods(path).Pods).Pod;
        Assert.Equal("a", pod.Name);
        Assert.Equal(300, pod.Requests.GpuMilli);
    }

    /// <summary>
    /// DLRM rows whose limit the MaxInstancesPerNode filter could not apply as written: an empty app_name put every capped app-less
    /// pod under one cap; 0 dropped the cap (as -1, unlimited); a cap above an int was skipped by the filter's parse.
    /// </summary>
    [Theory]
    [InlineData("i0,HN,,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,", "app_name", "empty app_name with max_instance_per_node 8")]
    [InlineData("i0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,0,,,", "max_instance_per_node", "0 allows no instance")]
    [InlineData("i0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,2147483648,,,", "max_instance_per_node", "out of range")]
    public void A_dlrm_row_its_limit_cannot_be_applied_to_is_refused(string row, string column, string problem) =>
        AssertAt(Refused(DlrmHeader + "\n" + row + "\n"), 2, column, problem);


    /// <summary>More nodes than a replay can hold (the spec is expanded up front) filled memory instead of starting.</summary>
    [Fact]
    public void A_generator_count_beyond_the_largest_cluster_is_refused() =>
        Assert.Equal($"node generator: 'count' must be a positive integer up to {NodeGenerator.MaxCount}",
            Assert.Throws<FormatException>(() => NodeGenerator.Generate($"gen:count={NodeGenerator.MaxCount + 1},cpu=1")).Message);

    private static TraceFormatException Refused(string content, bool nodes = false)
    {
        var path = Fixtures.TempFile("trace.csv", content);
        var e = Assert.Throws<TraceFormatException>(() => nodes ? (object)TraceLoader.LoadNodes(path) : TraceLoader.LoadPods(path));
        Assert.Equal(path, e.File);
        Assert.StartsWith(path + ":", e.Message);
        return e;
    }

    private static void AssertAt(TraceFormatException e, int line, string? column, string problem)
    {
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains(problem, e.Message);
    }
}
