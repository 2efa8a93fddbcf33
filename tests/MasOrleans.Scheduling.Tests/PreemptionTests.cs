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
    // Only a node with a victim is a candidate (preemption.go DryRunPreemption; default_preemption.go SelectVictimsOnNode
    // answers "No preemption victims found" for n2), so n1 is freed although n2 needs nobody evicted.
    [InlineData("n1:4000:0,n2:4000:0", "a@n1:4000:0", "2000:10", "n1:a")]
    // GPU shares go on ONE device: 400m and 100m free (500m in all) do not take a 500m share. Without a and b it fits;
    // b (priority 5) is offered the reprieve first, but with b back the devices have 400m and 400m: b goes; with a back
    // device 0 is wholly free: a stays.
    [InlineData("n1:8000:2", "b@n1:1000:5:600@0,a@n1:1000:1:300@1,c@n1:1000:20:600@1", "1000:10:500", "n1:b")]
    public void Picks_the_minimal_lower_priority_victims_on_the_best_node(string nodes, string pods, string preemptor, string expected)
    {
        var cluster = Cluster(nodes, pods);
        var pending = Preemptor(preemptor);
        var before = Snapshot(cluster);

        var chosen = Kube.Preempt(cluster, pending, new Random(1));

        var actual = chosen is null ? "-" : $"{chosen.NodeName}:{string.Join(",", chosen.Victims.Select(v => v.Pod.Name).Order())}";
        Assert.Equal(expected, actual);
        Assert.Equal(before, Snapshot(cluster)); // the what-if left the cluster as it was

        if (chosen is null) return;
        // Evicting exactly the victims really makes room.
        foreach (var v in chosen.Victims) cluster.Unbind(v.Pod.Name);
        Assert.True(cluster.FitsResources(chosen.Node, pending));
    }

    /// <summary>
    /// Among equal priorities the earlier-started pod is the more important (util.MoreImportantPod, pkg/scheduler/util),
    /// so it is offered the reprieve first; bind order stands for start time. a (3000m) was bound before b (1000m) on a
    /// 4000m node. A 2000m preemptor evicts a (a back leaves 1000m; b back leaves 2000m: b stays). A later 1000m
    /// preemptor must still offer a the reprieve first: a back leaves 1000m, the pod fits, so b (the later) goes. Had the
    /// first what-if left b ahead of a, b would be reprieved and a evicted.
    /// </summary>
    [Fact]
    public void A_what_if_keeps_the_earlier_bound_pod_the_more_important_for_the_next()
    {
        var cluster = Cluster("n1:4000:0", "a@n1:3000:1,b@n1:1000:1");

        Assert.Equal(["a"], Kube.Preempt(cluster, Preemptor("2000:10"), new Random(1))!.Victims.Select(v => v.Pod.Name));
        Assert.Equal(["b"], Kube.Preempt(cluster, Preemptor("1000:10"), new Random(1))!.Victims.Select(v => v.Pod.Name));
    }

    /// <summary>
    /// Equal priority: kube reprieves the pod that started first (pkg/scheduler/util/utils.go MoreImportantPod, "treating
    /// the older pod as more important", by GetPodStartTime), so the later goes. A node's pods read back from its stored
    /// bindings or a view's re-read come by name ("a-later" first); their bind times put "b-earlier" first. With both gone
    /// the 4000m preemptor fits, and "b-earlier" back (4000 + 4000 of 8000m) still lets it: "a-later" is the victim.
    /// </summary>
    [Fact]
    public void Equal_priority_pods_read_back_by_name_are_offered_the_reprieve_in_bind_order()
    {
        var bound = new DateTimeOffset(2026, 12, 6, 3, 0, 0, TimeSpan.Zero);
        var cluster = new ClusterState();
        cluster.AddNode(TestCluster.Node("n1", 8000, 64 * TestCluster.Gi, 0),
        [
            new BoundPod(TestCluster.Pod("a-later", cpuMilli: 4000), GpuAllocation.None, bound.AddSeconds(1)),
            new BoundPod(TestCluster.Pod("b-earlier", cpuMilli: 4000), GpuAllocation.None, bound),
        ]);

        Assert.Equal(["a-later"], Kube.Preempt(cluster, Preemptor("4000:10"), new Random(1))!.Victims.Select(v => v.Pod.Name));
        // The what-if restores them in bind order, times kept.
        Assert.Equal([("b-earlier", bound), ("a-later", bound.AddSeconds(1))], cluster.Pods[0].Select(b => (b.Pod.Name, b.BoundAt!.Value)));
    }

    /// <summary>
    /// A what-if binds the node's pods back as the records they were (a node grain and the silo's view share one record
    /// a pod, session 37): a copy would make every pod on each node a preemption looked at keep two.
    /// </summary>
    [Fact]
    public void A_what_if_binds_back_the_records_it_took_off()
    {
        var cluster = Cluster("n1:4000:0", "a@n1:3000:1,b@n1:1000:1");
        var before = cluster.Pods[0].ToList();

        Assert.Equal(["a"], Kube.Preempt(cluster, Preemptor("2000:10"), new Random(1))!.Victims.Select(v => v.Pod.Name));
        Assert.Null(Kube.Preempt(cluster, Preemptor("8000:10"), new Random(1)));

        Assert.Equal(before.Count, cluster.Pods[0].Count);
        Assert.All(before, record => Assert.Contains(cluster.Pods[0], kept => ReferenceEquals(kept, record)));
    }

    /// <summary>
    /// A pod without a bind time (stored before bind times were kept) has no start time, and kube's GetPodStartTime
    /// (pkg/scheduler/util/utils.go: "Assumed pods and bound pods that haven't started don't have a StartTime yet",
    /// returns time.Now()) puts it after every pod that started, so MoreImportantPod ranks it below an equal-priority pod
    /// with a bind time. Read back, the node lists it first (unknown times sort first). With both gone the 2000m preemptor
    /// fits on the 4000m node; "timed" is offered the reprieve first and stays (4000m), "untimed" back would need 6000m:
    /// "untimed" is the victim. Reprieving in list order would keep "untimed" and evict "timed".
    /// </summary>
    [Fact]
    public void A_pod_without_a_bind_time_counts_as_started_now_and_is_reprieved_after_one_with()
    {
        var cluster = new ClusterState();
        cluster.AddNode(TestCluster.Node("n1", 4000, 64 * TestCluster.Gi, 0),
        [
            new BoundPod(TestCluster.Pod("timed", cpuMilli: 2000) with { Priority = 1 }, GpuAllocation.None, new DateTimeOffset(2026, 12, 6, 3, 0, 0, TimeSpan.Zero)),
            new BoundPod(TestCluster.Pod("untimed", cpuMilli: 2000) with { Priority = 1 }, GpuAllocation.None),
        ]);
        Assert.Equal(["untimed", "timed"], cluster.Pods[0].Select(b => b.Pod.Name));

        Assert.Equal(["untimed"], Kube.Preempt(cluster, Preemptor("2000:10"), new Random(1))!.Victims.Select(v => v.Pod.Name));
    }

    /// <summary>
    /// pickOneNodeForPreemption's fifth criterion (pkg/scheduler/framework/preemption/preemption.go,
    /// latestStartTimeScoreFunc over util.GetEarliestPodStartTime, pkg/scheduler/util/utils.go): among nodes tied on the
    /// first four, the one whose highest-priority victims' EARLIEST start is the LATEST wins; a victim's start time is its
    /// bind time (<see cref="BoundPod.BoundAt"/>), and one without (assumed, not yet confirmed) started "now"
    /// (GetPodStartTime). Every case below ties on criteria 2-4 (highest victim priority, sum, count), so a pick that stops
    /// there takes the first node, n1, and is wrong for each.
    /// </summary>
    /// <param name="n1">n1's two victims: priority@seconds after t0 (or "now"), each 2000m of its 4000m</param>
    [Theory]
    // Highest priority 5 on both. n1's earliest priority-5 victim started at 10 s, n2's at 20 s: n2. (The earliest of ALL
    // victims would be n2's 0 s and pick n1; the latest of all n1's 30 s, n1 again.)
    [InlineData("5@10,1@30", "5@20,1@0", "n2")]
    // Two priority-5 victims each: n1's earliest is 12 s, n2's 15 s: n2 (the latest of the highest would be n1's 40 s).
    [InlineData("5@40,5@12", "5@15,5@25", "n2")]
    // A victim not yet started counts as started now, after any bind time: n2.
    [InlineData("5@10,1@0", "5@now,1@0", "n2")]
    public void Among_ties_the_node_whose_highest_priority_victims_started_latest_wins(string n1, string n2, string expected)
    {
        var t0 = new DateTimeOffset(2026, 12, 6, 3, 0, 0, TimeSpan.Zero);
        var cluster = new ClusterState();
        foreach (var (node, victims) in new[] { ("n1", n1), ("n2", n2) })
            cluster.AddNode(TestCluster.Node(node, 4000, 64 * TestCluster.Gi, 0), victims.Split(',').Select((v, i) =>
            {
                var f = v.Split('@');
                var pod = TestCluster.Pod($"{node}-{i}", cpuMilli: 2000) with { Priority = int.Parse(f[0]) };
                return new BoundPod(pod, GpuAllocation.None, f[1] == "now" ? null : t0.AddSeconds(int.Parse(f[1])));
            }));

        var chosen = Kube.Preempt(cluster, Preemptor("4000:10"), new Random(1))!;

        Assert.Equal(expected, chosen.NodeName);
        Assert.Equal(2, chosen.Victims.Count);
    }

    /// <summary>
    /// kube's message when preemption finds no node to free: DefaultPreemption.PostFilter prefixes "preemption: " to the
    /// dry run's FitError (pkg/scheduler/framework/preemption/preemption.go Evaluator.Preempt), which counts per node:
    /// nodes whose filters' rejection is UnschedulableAndUnresolvable (cordon, taint, selector) are not tried, "Preemption is
    /// not helpful for scheduling"; a node without a lower-priority pod is "No preemption victims found for incoming pod"
    /// (default_preemption.go SelectVictimsOnNode); a node still rejected with every lower-priority pod gone gives that
    /// rejection. Reasons in byte order (sort.Strings), as FitError.Error (pkg/scheduler/framework/types.go).
    /// </summary>
    [Theory]
    // n1: only an equal-priority pod; n2: cordoned.
    [InlineData("n1:4000:0,n2:4000:0:cordoned", "a@n1:4000:10", "1000:10",
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.")]
    // Without b (priority 1) the higher-priority a still leaves 1000m, short of 2000m.
    [InlineData("n1:4000:0", "a@n1:3000:20,b@n1:1000:1", "2000:10", "preemption: 0/1 nodes are available: 1 Insufficient cpu.")]
    // n1's 1000m allocatable is below the 2000m request: NodeResourcesFit's status is UnschedulableAndUnresolvable
    // (fit.go, InsufficientResource.Unresolvable: request > allocatable, since v1.34), so n1 is not tried, whatever it
    // holds; n2 holds only an equal-priority pod. Before: n1 said "Insufficient cpu" (with a gone) or "No preemption victims".
    [InlineData("n1:1000:0,n2:4000:0", "a@n1:1000:1,b@n2:4000:10", "2000:10",
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.")]
    [InlineData("n1:1000:0,n2:4000:0", "b@n2:4000:10", "2000:10",
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.")]
    // Without a, device 1 has 400m free and device 0 400m: 800m in all, but no ONE device with the 500m share.
    [InlineData("n1:8000:2", "b@n1:1000:20:600@0,a@n1:1000:1:300@1,c@n1:1000:20:600@1", "1000:10:500",
        "preemption: 0/1 nodes are available: 1 node(s) had no GPU device with enough free share.")]
    public void When_no_node_can_be_freed_it_says_why_per_node_as_kube(string nodes, string pods, string preemptor, string expected)
    {
        var cluster = Cluster(nodes, pods);
        var before = Snapshot(cluster);

        var outcome = Kube.Evaluate(cluster, Preemptor(preemptor), new Random(1));

        Assert.Null(outcome.Chosen);
        Assert.Equal(expected, outcome.FailureMessage);
        Assert.Equal(before, Snapshot(cluster));
    }

    private static readonly DefaultPreemption Kube = new(PolicyCatalog.CreateDefault().Create("kube"));

    /// <param name="preemptor">cpuMilli:priority[:gpuMilli]</param>
    internal static PodSpec Preemptor(string preemptor)
    {
        var p = preemptor.Split(':');
        return TestCluster.Pod("preemptor", cpuMilli: long.Parse(p[0]), gpuMilli: p.Length > 2 ? long.Parse(p[2]) : 0) with { Priority = int.Parse(p[1]) };
    }

    internal static ClusterState Cluster(string nodes, string pods)
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
        return cluster;
    }

    /// <summary>Each node's allocation, free GPU and pods in bind order (which later what-ifs read as start order).</summary>
    internal static string Snapshot(ClusterState cluster) => string.Join(";", Enumerable.Range(0, cluster.NodeCount).Select(n =>
        $"{cluster.NameOf(n)}={cluster.AllocatedOf(n).CpuMilli}/{string.Join(",", cluster.GpuFreeOf(n).ToArray())}/" +
        string.Join(",", cluster.Pods[n].Select(b => b.Pod.Name))));
}
