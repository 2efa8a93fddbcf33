using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Scheduling.Tests;

/// <summary>DLRM's max_instance_per_node, enforced for every policy by the MaxInstancesPerNode filter.</summary>
public class MaxInstancesPerNodeTests
{
    private const string Header =
        "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n";

    /// <summary>Places the trace's pods in order with one policy, binding each result; returns the node names (null = failed).</summary>
    private static List<string?> Place(string policy, string csv, int nodes)
    {
        var trace = DlrmTraceReader.ReadPods(Fixtures.TempFile("dlrm.csv", Header + csv));
        var cluster = Fixtures.Cluster(Enumerable.Range(0, nodes).Select(i => Fixtures.Node($"n{i}", 64_000, 0)).ToArray());
        var scheduler = new ProfileScheduler(PolicyCatalog.CreateDefault().Create(policy));
        var random = new Random(7);
        var placed = new List<string?>();
        foreach (var tp in trace.Pods)
        {
            var result = scheduler.Schedule(cluster, tp.Pod, random);
            if (result.Success) Assert.True(cluster.TryBind(result.Node, tp.Pod, result.Gpus));
            placed.Add(result.Success ? result.NodeName : null);
        }
        return placed;
    }

    [Theory]
    [InlineData("best-fit")]
    [InlineData("kube")]
    [InlineData("random")]
    public void No_node_runs_more_than_max_instances_of_an_app(string policy)
    {
        // Five app_0 pods capped at 2 per node on two nodes with room for all: two per node, the fifth fails.
        // app_1 is uncapped (-1) and still lands.
        var rows = string.Concat(Enumerable.Range(0, 5).Select(i => $"a{i},CN,app_0,1,1,0,0,0,0,1.0,1.0,0,0,2,,,\n")) + "b0,CN,app_1,1,1,0,0,0,0,1.0,1.0,0,0,-1,,,\n";
        var placed = Place(policy, rows, 2);
        Assert.Equal(2, placed.Take(5).Count(n => n == "n0"));
        Assert.Equal(2, placed.Take(5).Count(n => n == "n1"));
        Assert.Null(placed[4]);
        Assert.NotNull(placed[5]);
    }

    [Fact]
    public void Failure_message_names_the_cap()
    {
        var trace = DlrmTraceReader.ReadPods(Fixtures.TempFile("dlrm.csv", Header + "a0,CN,app_0,1,1,0,0,0,0,1.0,1.0,0,0,1,,,\na1,CN,app_0,1,1,0,0,0,0,1.0,1.0,0,0,1,,,\n"));
        var cluster = Fixtures.Cluster(Fixtures.Node("n0", 64_000, 0));
        Assert.True(cluster.TryBind(0, trace.Pods[0].Pod, MasOrleans.Scheduling.Model.GpuAllocation.None));
        var result = new ProfileScheduler(PolicyCatalog.CreateDefault().Create("fgd")).Schedule(cluster, trace.Pods[1].Pod, new Random(1));
        Assert.False(result.Success);
        Assert.Contains(MaxInstancesPerNodeFilter.Reason, result.FailureMessage);
    }
}
