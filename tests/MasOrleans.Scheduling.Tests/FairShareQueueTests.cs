using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Queue;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// The <c>drf</c> queue order: Dominant Resource Fairness among namespaces within a priority (Ghodsi, Zaharia, Hindman,
/// Konwinski, Shenker, Stoica, "Dominant Resource Fairness: Fair Allocation of Multiple Resource Types", NSDI 2011).
/// Expected orders and counts are worked out by hand in each test's comment.
/// </summary>
public sealed class FairShareQueueTests
{
    private const long Cpu = 1000;
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The paper's worked example (Section 4): 9 CPUs and 18 GB; user A's tasks need &lt;1 CPU, 4 GB&gt; (dominant:
    /// memory, 4/18 = 2/9 a task), user B's &lt;3 CPUs, 1 GB&gt; (dominant: CPU, 3/9 = 1/3 a task); DRF gives A three
    /// tasks and B two, both at a dominant share of 2/3, with all 9 CPUs and 14 GB used. By hand, through the queue: shares
    /// (0, 0) → a (name) → (2/9, 0) → b → (2/9, 1/3) → a → (4/9, 1/3) → b → (4/9, 2/3) → a → (2/3, 2/3), and the CPUs are
    /// gone: every later pod of either fits nowhere. Arrival order does not matter; for the `priority` order it does: A's
    /// pods first gives A 4 and B 1 (16 GB and 4 CPUs, then one of B's), B's first gives B 3 (all 9 CPUs) and A none.
    /// </summary>
    [Theory]
    [InlineData("a-first", "drf", 3, 2)]
    [InlineData("b-first", "drf", 3, 2)]
    [InlineData("interleaved", "drf", 3, 2)]
    [InlineData("a-first", "priority", 4, 1)]
    [InlineData("b-first", "priority", 0, 3)]
    public async Task The_papers_two_users_on_9_cpus_and_18_GB_get_3_and_2_tasks(string arrivals, string order, int expectedA, int expectedB)
    {
        var cluster = new InMemoryCluster(Of(Node("n0", 9 * Cpu, 18 * Gi)), "kube");
        Assert.True(QueueOrders.TryParse(order, out var queueOrder));
        var queue = new SchedulingQueue<PodSpec>(queueOrder, dominantShare: (ns, inFlight) => cluster.Cluster.DominantShare(ns, inFlight));
        var a = Enumerable.Range(0, 6).Select(i => Pod($"a-{i}", 1 * Cpu, 4 * Gi) with { Namespace = "a" }).ToList();
        var b = Enumerable.Range(0, 6).Select(i => Pod($"b-{i}", 3 * Cpu, 1 * Gi) with { Namespace = "b" }).ToList();
        var pods = arrivals switch
        {
            "a-first" => a.Concat(b),
            "b-first" => b.Concat(a),
            _ => a.Zip(b).SelectMany(pair => new[] { pair.First, pair.Second }),
        };
        foreach (var pod in pods) queue.Add(pod.Name, pod.Priority, null, pod, pod.Namespace);

        var cycle = cluster.CreateCycle(new PolicySchedulers(PolicyCatalog.CreateDefault()), new Random(1));
        while (queue.TryPop(T0, out var next))
        {
            var result = await cycle.Run(next.Item);
            if (result.Verdict == CycleVerdict.Bound) queue.Done(next.Name);
            else queue.MarkUnschedulable(next.Name, T0);
        }

        var bound = cluster.Cluster.PodsOn(0).GroupBy(p => p.Pod.Namespace).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal((expectedA, expectedB), (bound.GetValueOrDefault("a"), bound.GetValueOrDefault("b")));
        Assert.Equal(12, queue.UnschedulableCount + bound.Values.Sum());
    }

    /// <summary>
    /// Dominant shares by hand: 2 nodes of 8 CPUs, 32 GiB and 4 GPUs each (16 CPUs, 64 GiB, 8 GPUs). Namespace x binds
    /// &lt;2 CPUs, 16 GiB, 0&gt; and &lt;2 CPUs, 0, 1 GPU&gt;: CPU 4/16 = 0.25, memory 16/64 = 0.25, GPU 1/8 = 0.125 → 0.25.
    /// y binds &lt;1 CPU, 1 GiB, 4 GPUs&gt;: GPU 4/8 = 0.5. When x's memory pod leaves: CPU 2/16, GPU 1/8 → 0.125.
    /// </summary>
    [Fact]
    public void A_namespaces_dominant_share_is_its_largest_fraction_of_any_resource()
    {
        var cluster = Of(Node("n0", 8 * Cpu, 32 * Gi, gpus: 4), Node("n1", 8 * Cpu, 32 * Gi, gpus: 4));
        Bind(cluster, 0, Pod("x-mem", 2 * Cpu, 16 * Gi) with { Namespace = "x" });
        Bind(cluster, 1, Pod("x-gpu", 2 * Cpu, 0, gpuMilli: 1000) with { Namespace = "x" }, 0);
        Bind(cluster, 0, Pod("y-gpu", 1 * Cpu, 1 * Gi, gpuMilli: 4000) with { Namespace = "y" }, 0, 1, 2, 3);

        Assert.Equal((0.25, 0.5, 0.0), (cluster.DominantShare("x"), cluster.DominantShare("y"), cluster.DominantShare("z")));
        Assert.True(cluster.Unbind("x-mem"));
        Assert.Equal(0.125, cluster.DominantShare("x"));
        Assert.True(cluster.Unbind("x-gpu"));
        Assert.Equal(0.0, cluster.DominantShare("x"));
    }

    /// <summary>
    /// The shares divide the capacity the allocator can give: Ready, uncordoned nodes. n0 (Ready) has 4 CPUs and 16 GiB,
    /// n1 12 CPUs and 16 GiB. x binds &lt;2 CPUs, 2 GiB&gt; and y &lt;1 CPU, 6 GiB&gt; on n0. With n1 NotReady the capacity
    /// is 4 CPUs, 16 GiB: x max(2/4, 2/16) = 0.5, y max(1/4, 6/16) = 0.375, so y's next pod goes first. n1 Ready: 16 CPUs,
    /// 32 GiB, x max(2/16, 2/32) = 0.125, y max(1/16, 6/32) = 0.1875, so x's. n1 cordoned: as NotReady.
    /// </summary>
    [Fact]
    public void A_NotReady_or_cordoned_nodes_capacity_is_not_in_the_shares()
    {
        var cluster = Of(Node("n0", 4 * Cpu, 16 * Gi), Node("n1", 12 * Cpu, 16 * Gi));
        cluster.SetReady(1, false);
        Bind(cluster, 0, Pod("x-bound", 2 * Cpu, 2 * Gi) with { Namespace = "x" });
        Bind(cluster, 0, Pod("y-bound", 1 * Cpu, 6 * Gi) with { Namespace = "y" });
        string FirstPopped()
        {
            var queue = new SchedulingQueue<int>(QueueOrder.Drf, dominantShare: (ns, _) => cluster.DominantShare(ns));
            queue.Add("x-next", 0, null, 0, "x");
            queue.Add("y-next", 0, null, 0, "y");
            return Pop(queue);
        }

        Assert.Equal((0.5, 0.375, "y-next"), (cluster.DominantShare("x"), cluster.DominantShare("y"), FirstPopped()));
        cluster.SetReady(1, true);
        Assert.Equal((0.125, 0.1875, "x-next"), (cluster.DominantShare("x"), cluster.DominantShare("y"), FirstPopped()));
        cluster.UpdateNode(Node("n1", 12 * Cpu, 16 * Gi) with { Unschedulable = true });
        Assert.Equal((0.5, 0.375, "y-next"), (cluster.DominantShare("x"), cluster.DominantShare("y"), FirstPopped()));
    }

    [Fact]
    public void Priority_comes_first_then_the_smallest_share_then_arrival_within_a_namespace()
    {
        var shares = new Dictionary<string, double> { ["big"] = 0.5, ["small"] = 0.1 };
        var queue = new SchedulingQueue<int>(QueueOrder.Drf, dominantShare: (ns, _) => shares.GetValueOrDefault(ns));
        queue.Add("big-1", 0, null, 0, "big");
        queue.Add("small-1", 0, null, 0, "small");
        queue.Add("big-urgent", 10, null, 0, "big");
        queue.Add("small-2", 0, null, 0, "small");
        queue.Add("big-2", 0, null, 0, "big");

        // big-urgent outranks every priority-0 pod whatever its namespace's share; then small (0.1) drains in arrival
        // order before big (0.5), the shares not changing here.
        Assert.Equal(["big-urgent", "small-1", "small-2", "big-1", "big-2"], Drain(queue));
    }

    [Fact]
    public void A_namespace_with_nothing_bound_goes_first_and_equal_shares_go_by_name()
    {
        var shares = new Dictionary<string, double> { ["team-a"] = 0.2, ["team-c"] = 0.2 };
        var queue = new SchedulingQueue<int>(QueueOrder.Drf, dominantShare: (ns, _) => shares.GetValueOrDefault(ns));
        queue.Add("c-1", 0, null, 0, "team-c");
        queue.Add("a-1", 0, null, 0, "team-a");
        queue.Add("new-1", 0, null, 0, "zz-new");

        Assert.Equal(["new-1", "a-1", "c-1"], Drain(queue));
    }

    /// <summary>
    /// The shares are read at each pop: after x's first pod binds, x's share (0.3) passes y's (0.2), so y's pod goes next
    /// although x's second arrived first and x was smallest at enqueue; then y's bind (0.4) hands the turn back to x.
    /// </summary>
    [Fact]
    public void The_order_follows_the_shares_as_pods_bind()
    {
        var shares = new Dictionary<string, double> { ["x"] = 0.1, ["y"] = 0.2 };
        var queue = new SchedulingQueue<int>(QueueOrder.Drf, dominantShare: (ns, _) => shares[ns]);
        queue.Add("x-1", 0, null, 0, "x");
        queue.Add("x-2", 0, null, 0, "x");
        queue.Add("y-1", 0, null, 0, "y");
        queue.Add("y-2", 0, null, 0, "y");

        Assert.Equal("x-1", Pop(queue));
        shares["x"] = 0.3;
        Assert.Equal("y-1", Pop(queue));
        shares["y"] = 0.4;
        Assert.Equal("x-2", Pop(queue));
        Assert.Equal("y-2", Pop(queue));
    }

    /// <summary>
    /// A pod back from backoff is queued as of its failed attempt, as kube's timestamp is refreshed then
    /// (AddUnschedulableIfNotPresent, pkg/scheduler/backend/queue/scheduling_queue.go): within its namespace it goes behind
    /// x-2, queued before the attempt.
    /// </summary>
    [Fact]
    public void A_requeued_pod_goes_behind_its_namespaces_pods_queued_before_its_attempt()
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Drf, dominantShare: (_, _) => 0);
        queue.Add("x-1", 0, null, 0, "x");
        queue.Add("x-2", 0, null, 0, "x");
        Assert.Equal("x-1", Pop(queue));
        queue.Requeue("x-1", T0);

        Assert.Equal(["x-2", "x-1"], Drain(queue, T0.AddMinutes(1)));
        Assert.Equal(0, queue.ActiveCount);
    }

    /// <summary>
    /// A pod counts in its namespace's share from its pop, as a window of attempts (MaxInFlight) pops several pods before
    /// any is assumed. The paper's example (9 CPUs, 18 GB; A's tasks &lt;1 CPU, 4 GB&gt; = 2/9 each, B's &lt;3 CPUs, 1 GB&gt;
    /// = 1/3 each), five pops with nothing bound: (0, 0) → a-0 → (2/9, 0) → b-0 → (2/9, 1/3) → a-1 → (4/9, 1/3) → b-1 →
    /// (4/9, 2/3) → a-2, the paper's 3 and 2. Counting bound pods alone, every share stays 0 and all five are A's (name order).
    /// </summary>
    [Fact]
    public void Pods_popped_for_an_attempt_count_in_their_namespaces_share_before_they_are_assumed()
    {
        var (_, queue) = PapersExample();

        Assert.Equal(["a-0", "b-0", "a-1", "b-1", "a-2"], Enumerable.Range(0, 5).Select(_ => Pop(queue)).ToList());
    }

    /// <summary>
    /// An attempt that ends releases its pod's count, and a pod the cluster holds counts once. Paper's example: a-0 and b-0
    /// popped, (2/9, 1/3). b-0's attempt fails (backoff): B is 0 again, so b-1 goes next (with b-0 still counted, A's 2/9
    /// would win). b-1 fails too; then a-0 is assumed in the cluster while in flight: A is 2/9 once (4/9 counted twice),
    /// B is 0 → b-2; then (2/9, 1/3) → a-1.
    /// </summary>
    [Fact]
    public void An_ended_attempt_releases_its_pods_count_and_an_assumed_pod_counts_once()
    {
        var (cluster, queue) = PapersExample();
        Assert.Equal(["a-0", "b-0"], [Pop(queue), Pop(queue)]);

        queue.Requeue("b-0", T0);
        Assert.Equal("b-1", Pop(queue));
        queue.MarkUnschedulable("b-1", T0);
        Assert.True(cluster.TryBind(0, PaperPod("a", 0), GpuAllocation.None));
        Assert.Equal(["b-2", "a-1"], [Pop(queue), Pop(queue)]);
    }

    /// <summary>
    /// Until the share source knows the shares (a silo's view not started) the drf order hands out nothing: with every
    /// share read as 0 it would go by name. Once known: B (nothing bound) before A (2/9 bound).
    /// </summary>
    [Fact]
    public void Nothing_is_handed_out_before_the_shares_are_known()
    {
        double? known = null;
        var queue = new SchedulingQueue<int>(QueueOrder.Drf, dominantShare: (ns, _) => ns == "a" ? known : known is null ? null : 0);
        queue.Add("a-0", 0, null, 0, "a");
        queue.Add("b-0", 0, null, 0, "b");

        Assert.False(queue.TryPop(T0, out _));
        Assert.Equal(2, queue.ActiveCount);
        known = 2.0 / 9;
        Assert.Equal(["b-0", "a-0"], Drain(queue));
    }

    private static PodSpec PaperPod(string user, int i) => user == "a"
        ? Pod($"a-{i}", 1 * Cpu, 4 * Gi) with { Namespace = "a" }
        : Pod($"b-{i}", 3 * Cpu, 1 * Gi) with { Namespace = "b" };

    /// <summary>The paper's cluster (one node of 9 CPUs, 18 GB) with six tasks of each user waiting, A's first.</summary>
    private static (ClusterState Cluster, SchedulingQueue<PodSpec> Queue) PapersExample()
    {
        var cluster = Of(Node("n0", 9 * Cpu, 18 * Gi));
        var queue = new SchedulingQueue<PodSpec>(QueueOrder.Drf, dominantShare: (ns, inFlight) => cluster.DominantShare(ns, inFlight));
        foreach (var pod in new[] { "a", "b" }.SelectMany(user => Enumerable.Range(0, 6).Select(i => PaperPod(user, i))))
            queue.Add(pod.Name, pod.Priority, null, pod, pod.Namespace);
        return (cluster, queue);
    }

    [Fact]
    public void The_drf_order_needs_a_share_source() =>
        Assert.Throws<ArgumentNullException>(() => new SchedulingQueue<int>(QueueOrder.Drf));

    private static string Pop<T>(SchedulingQueue<T> queue)
    {
        Assert.True(queue.TryPop(T0, out var pod));
        return pod.Name;
    }

    private static List<string> Drain<T>(SchedulingQueue<T> queue, DateTimeOffset? now = null)
    {
        var order = new List<string>();
        while (queue.TryPop(now ?? T0, out var pod)) order.Add(pod.Name);
        return order;
    }

    private static void Bind(ClusterState cluster, int node, PodSpec pod, params int[] devices) =>
        Assert.True(cluster.TryBind(node, pod, pod.Gpu.IsNone ? GpuAllocation.None : new GpuAllocation(devices, pod.Gpu.MilliPerGpu)));
}
