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
