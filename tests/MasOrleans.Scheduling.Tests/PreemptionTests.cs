using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Preemption;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

/// <summary>DefaultPreemption on hand-made clusters whose answers follow kube-scheduler's rules.</summary>
public sealed class PreemptionTests
{
    /// <param name="nodes">name:cpuMilli:gpus[:cordoned]</param>
    /// <param name="pods">name@node:cpuMilli:priority[:gpuMilli@device]</param>
    /// <param name="preemptor">cpuMilli:priority[:gpuMilli]</param>
    /// <param name="expected">node:victim,victim (sorted) or "-" when no node can be freed</param>
    [Theory]
    // Reprieve the most important first: keeping c (priority 3) costs a and b, which is kube's minimal set.
    [InlineData("n1:4000:0", "a@n1:1000:1,b@n1:1000:2,c@n1:2000:3", "2000:10", "n1:a,b")]
    // Only what is needed goes: one 1000m victim suffices, the lowest priority one is sacrificed.
    [InlineData("n1:4000:0", "a@n1:1000:1,b@n1:1000:2,c@n1:2000:3", "1000:10", "n1:a")]
    // Higher- or equal-priority pods are never victims, so this node cannot be freed.
    [InlineData("n1:4000:0", "a@n1:3000:20,b@n1:1000:1", "2000:10", "-")]
    [InlineData("n1:4000:0", "a@n1:4000:10", "1000:10", "-")]
    // Lowest highest-victim priority wins.
    [InlineData("n1:4000:0,n2:4000:0", "a@n1:4000:5,b@n2:4000:3", "4000:10", "n2:b")]
    // Same highest priority: smallest sum of priorities wins.
    [InlineData("n1:4000:0,n2:4000:0", "a@n1:2000:3,b@n1:2000:3,c@n2:2000:3,d@n2:2000:1", "4000:10", "n2:c,d")]
    // Same highest priority, fewer victims (a smaller offset sum) wins.
    [InlineData("n1:4000:0,n2:4000:0", "a@n1:2000:1,b@n1:2000:1,c@n2:4000:1", "4000:10", "n2:c")]
    // Full tie: the first node in order.
    [InlineData("n1:4000:0,n2:4000:0", "a@n1:4000:1,b@n2:4000:1", "4000:10", "n1:a")]
    // A node the filters reject anyway (cordoned) is no candidate, however many low-priority pods it holds.
    [InlineData("n1:4000:0:cordoned,n2:4000:0", "a@n1:4000:0,b@n2:4000:5", "4000:10", "n2:b")]
    // GPU: a whole device needs both shares gone; a 500m share only the lower-priority holder.
    [InlineData("n1:8000:1", "a@n1:1000:0:500@0,b@n1:1000:5:500@0", "1000:10:1000", "n1:a,b")]
    [InlineData("n1:8000:1", "a@n1:1000:0:500@0,b@n1:1000:5:500@0", "1000:10:500", "n1:a")]
    // A node already free enough needs no victims and wins outright.
    [InlineData("n1:4000:0,n2:4000:0", "a@n1:4000:0", "2000:10", "n2:")]
    public void Picks_the_minimal_lower_priority_victims_on_the_best_node(string nodes, string pods, string preemptor, string expected)
    {
        var cluster = new ClusterState();
        foreach (var spec in nodes.Split(','))
        {
            var f = spec.Split(':');
            cluster.AddNode(TestCluster.Node(f[0], long.Parse(f[1]), 64 * TestCluster.Gi, int.Parse(f[2]), unschedulable: f.Length > 3));
        }
        foreach (var spec in pods.Split(','))
        {
            var at = spec.Split('@', 2);
            var f = at[1].Split(':');
            var gpu = f.Length > 3 ? f[3].Split('@') : null;
            var pod = TestCluster.Pod(at[0], cpuMilli: long.Parse(f[1]), gpuMilli: gpu is null ? 0 : long.Parse(gpu[0])) with { Priority = int.Parse(f[2]) };
            var gpus = gpu is null ? GpuAllocation.None : new GpuAllocation([int.Parse(gpu[1])], int.Parse(gpu[0]));
            Assert.True(cluster.TryBind(cluster.IndexOf(f[0]), pod, gpus));
        }
        var p = preemptor.Split(':');
        var pending = TestCluster.Pod("preemptor", cpuMilli: long.Parse(p[0]), gpuMilli: p.Length > 2 ? long.Parse(p[2]) : 0) with { Priority = int.Parse(p[1]) };
        var before = Snapshot(cluster);

        var preemption = new DefaultPreemption(PolicyCatalog.CreateDefault().Create("kube"));
        var chosen = preemption.Preempt(cluster, pending, new Random(1));

        var actual = chosen is null ? "-" : $"{chosen.NodeName}:{string.Join(",", chosen.Victims.Select(v => v.Pod.Name).Order())}";
        Assert.Equal(expected, actual);
        Assert.Equal(before, Snapshot(cluster)); // the what-if left the cluster as it was

        if (chosen is null) return;
        // Evicting exactly the victims really makes room.
        foreach (var v in chosen.Victims) cluster.Unbind(v.Pod.Name);
        Assert.True(cluster.FitsResources(chosen.Node, pending));
    }

    private static string Snapshot(ClusterState cluster) => string.Join(";", Enumerable.Range(0, cluster.NodeCount).Select(n =>
        $"{cluster.NameOf(n)}={cluster.AllocatedOf(n).CpuMilli}/{string.Join(",", cluster.GpuFreeOf(n).ToArray())}/" +
        string.Join(",", cluster.Pods[n].Select(b => b.Pod.Name).Order())));
}
