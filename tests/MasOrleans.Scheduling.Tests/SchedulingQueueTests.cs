using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Queue;

namespace MasOrleans.Scheduling.Tests;

public sealed class SchedulingQueueTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static List<string> Drain<T>(SchedulingQueue<T> queue, DateTimeOffset now)
    {
        var order = new List<string>();
        while (queue.TryPop(now, out var pod)) order.Add(pod.Name);
        return order;
    }

    [Theory]
    // name:priority:duration, in arrival order → expected pop order
    [InlineData("priority", "a:0:-,b:10:-,c:0:-,d:10:-", "b,d,a,c")]
    [InlineData("priority", "a:0:5,b:0:1,c:0:3", "a,b,c")]
    [InlineData("sjf", "a:0:5,b:0:1,c:0:3", "b,c,a")]
    [InlineData("sjf", "a:0:-,b:0:9,c:5:100,d:0:2", "c,d,b,a")]
    [InlineData("sjf", "a:1:50,b:0:1", "a,b")]
    public void Pops_by_priority_then_arrival_or_shortest_job(string order, string pods, string expected)
    {
        Assert.True(QueueOrders.TryParse(order, out var queueOrder));
        var queue = new SchedulingQueue<int>(queueOrder);
        foreach (var spec in pods.Split(','))
        {
            var f = spec.Split(':');
            queue.Add(f[0], int.Parse(f[1]), f[2] == "-" ? null : double.Parse(f[2]), 0);
        }
        Assert.Equal(expected.Split(','), Drain(queue, T0));
    }

    /// <summary>
    /// Seed 003's starvation of SJF, and its bound. By hand: "long" (600 s) arrives at 0 s, then a short job (30 s) at each
    /// of 10, 20, ... s, each arrival once the one before it was placed. Strict SJF (no bound) pops the short one every time, so
    /// at 70 s "long" still waits behind "s70". With a 60 s bound, "long" has waited 60 s at 60 s, not longer, so "s60" still
    /// goes first; at 70 s it has waited 70 s and goes ahead of "s70" although its expected duration is 20 times longer.
    /// </summary>
    [Theory]
    [InlineData(0, 60, "s60")]
    [InlineData(0, 70, "s70")]
    [InlineData(60, 60, "s60")]
    [InlineData(60, 70, "long")]
    public void Sjf_bounds_how_long_shorter_jobs_can_go_ahead(int maxWaitSeconds, int seconds, string expected)
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Sjf, sjfMaxWait: TimeSpan.FromSeconds(maxWaitSeconds));
        queue.Add("long", 0, 600, 0, arrivedAt: T0);
        for (var t = 10; t < seconds; t += 10)
        {
            queue.Add($"s{t}", 0, 30, 0, arrivedAt: T0.AddSeconds(t));
            Assert.Equal($"s{t}", Pop(queue, T0.AddSeconds(t)));
            queue.Done($"s{t}");
        }
        queue.Add($"s{seconds}", 0, 30, 0, arrivedAt: T0.AddSeconds(seconds));
        Assert.Equal(expected, Pop(queue, T0.AddSeconds(seconds)));
    }

    /// <summary>
    /// Past the bound (10 s here), pods go ahead of those that are not, the longest waiting first, a pod stating no duration
    /// too; priority still comes first. At 15 s: "old-none" (no duration, arrived at 1 s) and "old-long" (900 s, 2 s) have
    /// waited past 10 s, "new-short" (5 s, 14 s) has not, "high" (priority 1, 300 s, 14 s) outranks them all: high,
    /// old-none, old-long, new-short. A starved pod that found no node keeps its place when an event brings it back.
    /// </summary>
    [Fact]
    public void Sjf_puts_the_pods_waiting_past_the_bound_first_by_arrival_within_their_priority()
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Sjf, sjfMaxWait: TimeSpan.FromSeconds(10));
        queue.Add("old-long", 0, 900, 0, arrivedAt: T0.AddSeconds(2));
        queue.Add("new-short", 0, 5, 0, arrivedAt: T0.AddSeconds(14));
        queue.Add("old-none", 0, null, 0, arrivedAt: T0.AddSeconds(1));
        queue.Add("high", 1, 300, 0, arrivedAt: T0.AddSeconds(14));
        var at15 = T0.AddSeconds(15);
        Assert.Equal(["high", "old-none", "old-long", "new-short"], Drain(queue, at15));

        queue.MarkUnschedulable("old-none", at15);
        queue.MarkUnschedulable("new-short", at15);
        queue.MoveAllToActive(T0.AddSeconds(20));
        Assert.Equal(["old-none", "new-short"], Drain(queue, T0.AddSeconds(20)));
    }

    /// <summary>
    /// A pod past the SJF bound that found no node waits out no backoff, so the event that frees room brings it straight
    /// back ahead, rather than sitting out in its backoff (the longest, as it failed the most) the events that free room. By hand, backoff 1 s doubling, 10 s bound: "long" (600 s, arrived 0 s) fails at
    /// 0 s (backoff to 1 s), at 2 s (to 4 s) and at 5 s (to 9 s), each after an event; at 11 s, past the bound, it is tried
    /// again with "short" (3 s, arrived 11 s), and both fail. Its fourth failure would back it off 8 s, to 19 s; "short"'s
    /// first 1 s, to 12 s. At the event at 12.5 s "long" is active and pops first, then "short"; with the backoff, "short"
    /// would pop first, and "long" only after it (an idle queue takes a pod backing off early).
    /// </summary>
    [Fact]
    public void Sjf_a_pod_past_the_bound_that_found_no_node_comes_back_ahead_with_the_next_event()
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Sjf, sjfMaxWait: TimeSpan.FromSeconds(10));
        queue.Add("long", 0, 600, 0, arrivedAt: T0);
        foreach (var (tried, evented) in new[] { (0, 2), (2, 5), (5, 11) })
        {
            Assert.Equal(["long"], Drain(queue, T0.AddSeconds(tried)));
            queue.MarkUnschedulable("long", T0.AddSeconds(tried));
            queue.MoveAllToActive(T0.AddSeconds(evented));
        }
        var at11 = T0.AddSeconds(11);
        queue.Add("short", 0, 3, 0, arrivedAt: at11);
        Assert.Equal(["long", "short"], Drain(queue, at11));
        queue.MarkUnschedulable("long", at11);
        queue.MarkUnschedulable("short", at11);

        var at12half = T0.AddMilliseconds(12_500);
        Assert.Equal(2, queue.MoveAllToActive(at12half));
        Assert.Equal(["long", "short"], Drain(queue, at12half));
    }

    /// <summary>
    /// A pod past the SJF bound while it backs off goes to the active queue, ahead, rather than wait in the backoff queue,
    /// whose pods a pop takes early only when no pod is active (found live: with an event during each attempt, every pod
    /// failed into backoff, and a 600 s job past a 10 s bound was popped after every 3 s job each round, placed last). By
    /// hand, backoff 1 s doubling, 10 s bound, an event during each attempt: "long" (600 s, arrived 0 s) fails at 0 s (to
    /// 1 s), 1 s (to 3 s), 3 s (to 7 s) and 7 s (to 15 s), where "short" (3 s, arrived 7 s), ahead of it then, fails too (to
    /// 8 s). At 12 s "short"'s
    /// backoff is over and "long" has waited 12 s: "long", then "short". Without the bound "short" is active and goes first,
    /// then "long", early from backoff.
    /// </summary>
    [Theory]
    [InlineData(10, "long,short")]
    [InlineData(0, "short,long")]
    public void Sjf_a_pod_past_the_bound_while_backing_off_goes_ahead(int maxWaitSeconds, string expected)
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Sjf, sjfMaxWait: TimeSpan.FromSeconds(maxWaitSeconds));
        queue.Add("long", 0, 600, 0, arrivedAt: T0);
        foreach (var second in new[] { 0, 1, 3 })
        {
            Assert.Equal("long", Pop(queue, T0.AddSeconds(second)));
            queue.MoveAllToActive(T0.AddSeconds(second));
            queue.MarkUnschedulable("long", T0.AddSeconds(second));
        }
        var at7 = T0.AddSeconds(7);
        queue.Add("short", 0, 3, 0, arrivedAt: at7);
        Assert.Equal(["short", "long"], Drain(queue, at7));
        queue.MoveAllToActive(at7);
        queue.MarkUnschedulable("long", at7);
        queue.MarkUnschedulable("short", at7);
        Assert.Equal((0, 2, T0.AddSeconds(8)), (queue.ActiveCount, queue.BackoffCount, queue.NextBackoffExpiry));

        Assert.Equal(expected.Split(','), Drain(queue, T0.AddSeconds(12)));
    }

    /// <summary>
    /// A pod that passes the SJF bound while it waits in the unschedulable pool loses its backoff there, so the next event
    /// brings it straight to the active queue, ahead. By hand, backoff 1 s doubling to 10 s (Backoff_doubles_and_is_capped),
    /// 10 s bound: "long" (600 s, arrived 0 s) fails at 0 s (backoff to 1 s), at 2 s (to 4 s) and at 5 s (to 9 s), each
    /// after an event (at 2, 5 and 9 s), and at 9 s, not past the bound (9 s is not over 10 s), a fourth time: 8 s, to 17 s,
    /// into the pool (no event during the attempt). "short" (3 s) is added at 9 s. The pop at 12 s marks "long" starved (12 s
    /// waited) where it waits, in the pool, and hands out "short", which finds no node (backoff 1 s, to 13 s). At the event
    /// at 13 s both are active, "long" ahead: long, short. Kept at 17 s, "long" would go to backoff at that event and come
    /// out early only after "short": short, long.
    /// </summary>
    [Fact]
    public void Sjf_a_pod_that_passes_the_bound_in_the_unschedulable_pool_comes_back_ahead_with_the_next_event()
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Sjf, sjfMaxWait: TimeSpan.FromSeconds(10));
        queue.Add("long", 0, 600, 0, arrivedAt: T0);
        foreach (var (tried, evented) in new[] { (0, 2), (2, 5), (5, 9) })
        {
            Assert.Equal(["long"], Drain(queue, T0.AddSeconds(tried)));
            queue.MarkUnschedulable("long", T0.AddSeconds(tried));
            Assert.Equal(1, queue.UnschedulableCount);
            queue.MoveAllToActive(T0.AddSeconds(evented));
        }
        var at9 = T0.AddSeconds(9);
        Assert.Equal(["long"], Drain(queue, at9));
        queue.MarkUnschedulable("long", at9);
        Assert.Equal((0, 0, 1), (queue.ActiveCount, queue.BackoffCount, queue.UnschedulableCount));
        queue.Add("short", 0, 3, 0, arrivedAt: at9);

        var at12 = T0.AddSeconds(12);
        Assert.Equal("short", Pop(queue, at12));
        queue.MarkUnschedulable("short", at12);

        var at13 = T0.AddSeconds(13);
        Assert.Equal(2, queue.MoveAllToActive(at13));
        Assert.Equal(["long", "short"], Drain(queue, at13));
    }

    /// <summary>
    /// Starved pods that keep finding no node take turns: one tried since it was starved goes behind the starved pods not
    /// tried since, then by its last attempt, as a failed pod goes behind those queued before its attempt in the other
    /// orders. By hand, 10 s bound, one pop per event: "a" (600 s, arrived 0 s) and "b" (600 s, arrived 1 s) are starved at
    /// 12 s. Pop at 12 s: a (both untried, a arrived first); it fails. Event and pop at 13 s: b (untried); it fails. At 14 s
    /// both were tried, a's attempt (12 s) first: a; at 15 s, b. Ordered by arrival alone, "a" came first every time.
    /// </summary>
    [Fact]
    public void Sjf_starved_pods_that_find_no_node_take_turns()
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Sjf, sjfMaxWait: TimeSpan.FromSeconds(10));
        queue.Add("a", 0, 600, 0, arrivedAt: T0);
        queue.Add("b", 0, 600, 0, arrivedAt: T0.AddSeconds(1));
        var popped = new List<string>();
        foreach (var second in new[] { 12, 13, 14, 15 })
        {
            var now = T0.AddSeconds(second);
            queue.MoveAllToActive(now);
            var name = Pop(queue, now);
            popped.Add(name);
            queue.MarkUnschedulable(name, now);
        }
        Assert.Equal(["a", "b", "a", "b"], popped);
    }

    /// <summary>
    /// A starved pod whose attempt failed with an error still waits out its error backoff (kube's podErrorBackoffQ): the
    /// bound orders the pods, it does not retry a failing call sooner. By hand, backoff 1 s doubling, 10 s bound: "long"
    /// (600 s, arrived 0 s) fails with an error at 0 s (to 1 s), 1 s (to 3 s), 3 s (to 7 s) and 7 s (to 15 s); "short" (3 s)
    /// is added at 7 s. At 12 s "long" has waited past the bound but backs off until 15 s: only "short" pops; at 15 s, "long".
    /// </summary>
    [Fact]
    public void Sjf_a_pod_past_the_bound_backing_off_after_an_error_waits_it_out()
    {
        var queue = new SchedulingQueue<int>(QueueOrder.Sjf, sjfMaxWait: TimeSpan.FromSeconds(10));
        queue.Add("long", 0, 600, 0, arrivedAt: T0);
        foreach (var second in new[] { 0, 1, 3, 7 })
        {
            Assert.Equal(["long"], Drain(queue, T0.AddSeconds(second)));
            queue.Requeue("long", T0.AddSeconds(second));
        }
        queue.Add("short", 0, 3, 0, arrivedAt: T0.AddSeconds(7));
        Assert.Equal(T0.AddSeconds(15), queue.NextBackoffExpiry);

        Assert.Equal(["short"], Drain(queue, T0.AddSeconds(12)));
        queue.Done("short");
        Assert.Empty(Drain(queue, T0.AddMilliseconds(14_999)));
        Assert.Equal(["long"], Drain(queue, T0.AddSeconds(15)));
    }

    /// <summary>
    /// The SJF bound is the sjf order's alone: the priority and drf orders given one keep their pops and backoffs. By hand,
    /// backoff 1 s doubling, pods created a minute before (far past a 1 s bound): "a" (priority 1) and "b" (0) pop at 0 s,
    /// a then b, and both find no node (backoff to 1 s, pool). The event at 0.5 s moves both to backoff (not over), none
    /// active; the pop at 0.5 s takes them early, a then b (same expiry, by priority). "a" fails with an error at 0.5 s
    /// (error backoff 1 s, to 1.5 s), "b" finds no node again (2 s, to 2.5 s, pool). The event at 0.6 s moves "b" to
    /// backoff; a pop at 0.6 s takes "b" early, "a" waits its error backoff out: pops at 1.5 s. Were the bound read, "a" and
    /// "b" would be starved at the first pop and back off no more: active, not backing off, after the event at 0.5 s.
    /// </summary>
    [Theory]
    [InlineData("priority", 0)]
    [InlineData("priority", 1)]
    [InlineData("drf", 0)]
    [InlineData("drf", 1)]
    public void Other_orders_ignore_the_sjf_bound(string order, int sjfMaxWaitSeconds)
    {
        Assert.True(QueueOrders.TryParse(order, out var queueOrder));
        var queue = new SchedulingQueue<int>(queueOrder, dominantShare: (_, _) => 0.0, sjfMaxWait: TimeSpan.FromSeconds(sjfMaxWaitSeconds));
        var created = T0.AddMinutes(-1);
        queue.Add("a", 1, 60, 0, arrivedAt: created);
        queue.Add("b", 0, 600, 0, arrivedAt: created);
        var trace = new List<string>();
        void Look(string at) => trace.Add($"{at}: active {queue.ActiveCount}, backoff {queue.BackoffCount} to {queue.NextBackoffExpiry - T0}, unschedulable {queue.UnschedulableCount}");

        trace.Add(string.Join(",", Drain(queue, T0)));
        queue.MarkUnschedulable("a", T0);
        queue.MarkUnschedulable("b", T0);
        Look("0");
        var at05 = T0.AddMilliseconds(500);
        queue.MoveAllToActive(at05);
        Look("0.5");
        trace.Add(string.Join(",", Drain(queue, at05)));
        queue.Requeue("a", at05);
        queue.MarkUnschedulable("b", at05);
        Look("0.5 after");
        var at06 = T0.AddMilliseconds(600);
        queue.MoveAllToActive(at06);
        trace.Add(string.Join(",", Drain(queue, at06)));
        trace.Add(string.Join(",", Drain(queue, T0.AddMilliseconds(1_499))));
        trace.Add(string.Join(",", Drain(queue, T0.AddMilliseconds(1_500))));

        Assert.Equal([
            "a,b",
            "0: active 0, backoff 0 to , unschedulable 2",
            "0.5: active 0, backoff 2 to 00:00:01, unschedulable 0",
            "a,b",
            "0.5 after: active 0, backoff 1 to 00:00:01.5000000, unschedulable 1",
            "b",
            "",
            "a",
        ], trace);
    }

    [Fact]
    public void Unknown_order_is_rejected()
    {
        Assert.False(QueueOrders.TryParse("fifo", out _));
    }

    [Theory]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(3, 4000)]
    [InlineData(4, 8000)]
    [InlineData(5, 10000)]
    [InlineData(30, 10000)]
    public void Backoff_doubles_and_is_capped(int attempts, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), BackoffPolicy.Default.For(attempts));

    [Fact]
    public void Unschedulable_pods_wait_for_a_cluster_event_then_their_backoff()
    {
        var queue = new SchedulingQueue<int>();
        queue.Add("p", 10, null, 0);
        Assert.True(queue.TryPop(T0, out _));
        queue.MarkUnschedulable("p", T0);
        // No event: not handed out again for up to 5 minutes (no busy retry loop).
        Assert.Empty(Drain(queue, T0.AddMinutes(5)));
        Assert.Equal(1, queue.UnschedulableCount);
        Assert.Null(queue.NextBackoffExpiry);

        // Event before the 1 s backoff ran out: it waits in backoff until then while other pods are active, although it
        // comes first by priority.
        Assert.Equal(1, queue.MoveAllToActive(T0.AddMilliseconds(300)));
        Assert.Equal(T0.AddSeconds(1), queue.NextBackoffExpiry);
        queue.Add("q", 0, null, 0);
        queue.Add("r", 0, null, 0);
        Assert.Equal("q", Pop(queue, T0.AddMilliseconds(999)));
        Assert.Equal(["p", "r"], Drain(queue, T0.AddSeconds(1)));

        // Second failure: backoff 2 s; an event after it expired makes it active at once.
        queue.MarkUnschedulable("p", T0.AddSeconds(1));
        queue.MoveAllToActive(T0.AddSeconds(5));
        Assert.Equal(1, queue.ActiveCount);
    }

    /// <summary>
    /// kube-scheduler's flushUnschedulablePodsLeftover (pkg/scheduler/backend/queue/scheduling_queue.go) moves a pod that
    /// has been in unschedulablePods for more than DefaultPodMaxInUnschedulablePodsDuration (5 min, counted from the failed
    /// attempt: "currentTime.Sub(pInfo.Timestamp) &gt; podMaxInUnschedulablePodsDuration") to activeQ, or to backoffQ while
    /// its backoff runs, with no cluster event. So a pod whose waking event never came is tried again after 5 min, not never.
    /// </summary>
    [Fact]
    public void An_unschedulable_pod_is_tried_again_after_five_minutes_without_an_event()
    {
        var queue = new SchedulingQueue<int>();
        queue.Add("p", 0, null, 0);
        Assert.True(queue.TryPop(T0, out _));
        queue.MarkUnschedulable("p", T0.AddSeconds(2));
        Assert.Empty(Drain(queue, T0.AddSeconds(2).AddMinutes(5)));
        Assert.True(queue.TryPop(T0.AddSeconds(2).AddMinutes(5).AddMilliseconds(1), out var again));
        Assert.Equal(("p", 1), (again.Name, again.Attempts));

        // Its backoff outlasts the 5 min (a 10 min cap, attempts 2 and on): moved to backoff, handed out when that ends.
        var slow = new SchedulingQueue<int>(backoff: new BackoffPolicy(TimeSpan.FromMinutes(8), TimeSpan.FromMinutes(10)));
        slow.Add("q", 10, null, 0);
        Assert.True(slow.TryPop(T0, out _));
        slow.MarkUnschedulable("q", T0); // backoff 8 min
        slow.Add("other", 0, null, 0); // active, so the pop at 6 min does not take q from backoff early (SchedulerPopFromBackoffQ)
        Assert.Equal("other", Pop(slow, T0.AddMinutes(6)));
        Assert.Equal(1, slow.BackoffCount);
        Assert.Equal(T0.AddMinutes(8), slow.NextBackoffExpiry);
        Assert.Equal(["q"], Drain(slow, T0.AddMinutes(8)));
    }

    /// <summary>kube's AssignedPodAdded moves only pods with cross-topology terms (required pod affinity, topology spread).</summary>
    [Fact]
    public void A_bound_pod_moves_only_the_pods_that_count_bound_pods()
    {
        var queue = new SchedulingQueue<PodSpec>();
        var affine = new PodSpec
        {
            Name = "affine",
            Affinity = new Affinity(PodAffinity: new PodAffinity([new PodAffinityTerm(new LabelSelector(new Dictionary<string, string> { ["app"] = "db" }), "kubernetes.io/hostname")])),
        };
        var spread = new PodSpec { Name = "spread", TopologySpreadConstraints = [new TopologySpreadConstraint(1, "zone", "DoNotSchedule", null)] };
        var plain = new PodSpec { Name = "plain" };
        foreach (var pod in new[] { affine, spread, plain }) queue.Add(pod.Name, 0, null, pod);
        Assert.Equal(["affine", "spread", "plain"], Drain(queue, T0));
        foreach (var pod in new[] { affine, spread, plain }) queue.MarkUnschedulable(pod.Name, T0);

        Assert.Equal(2, queue.MoveToActive(QueueingHints.CountsBoundPods, T0.AddSeconds(1)));
        Assert.Equal(["affine", "spread"], Drain(queue, T0.AddSeconds(1)));
        Assert.Equal(1, queue.UnschedulableCount);
    }

    /// <summary>
    /// A pod bound while a pod that counts bound pods is in flight (its cycle read the cluster before the bind) is not
    /// lost either: that attempt failing sends the pod to backoff, as kube requeues an in-flight pod an event it received
    /// meanwhile may help. In the unschedulable pool it waited 5 minutes, since no other event comes when capacity only
    /// shrank. A pod the bind cannot help still goes to the pool.
    /// </summary>
    [Fact]
    public void A_bound_pod_during_the_attempt_of_a_pod_that_counts_bound_pods_is_not_lost()
    {
        var queue = new SchedulingQueue<PodSpec>();
        var spread = new PodSpec { Name = "spread", TopologySpreadConstraints = [new TopologySpreadConstraint(1, "zone", "DoNotSchedule", null)] };
        var plain = new PodSpec { Name = "plain" };
        foreach (var pod in new[] { spread, plain }) queue.Add(pod.Name, 0, null, pod);
        Assert.Equal(["spread", "plain"], Drain(queue, T0));

        Assert.Equal(0, queue.MoveToActive(QueueingHints.CountsBoundPods, T0));
        foreach (var pod in new[] { spread, plain }) queue.MarkUnschedulable(pod.Name, T0);
        Assert.Equal((1, 1), (queue.BackoffCount, queue.UnschedulableCount));
        Assert.Equal(["spread"], Drain(queue, T0.AddSeconds(1)));

        // The next attempt, with no bind during it, waits in the pool again.
        queue.MarkUnschedulable("spread", T0.AddSeconds(1));
        Assert.Equal((0, 2), (queue.BackoffCount, queue.UnschedulableCount));
    }

    [Fact]
    public void An_event_during_an_attempt_is_not_lost()
    {
        var queue = new SchedulingQueue<int>();
        queue.Add("p", 0, null, 0);
        Assert.True(queue.TryPop(T0, out _));
        queue.MoveAllToActive(T0); // capacity freed while the pod was being scheduled
        queue.MarkUnschedulable("p", T0);
        Assert.Equal(0, queue.UnschedulableCount);
        Assert.Equal(1, queue.BackoffCount);
        Assert.Equal(["p"], Drain(queue, T0.AddSeconds(1)));
    }

    /// <summary>
    /// kube-scheduler v1.35 counts the two kinds of failure apart (pkg/scheduler/backend/queue/scheduling_queue.go,
    /// AddUnschedulableIfNotPresent: ConsecutiveErrorsCount++ for an error, else UnschedulableCount++ and the errors reset;
    /// backoff_queue.go, getBackoffTime: the error count while it is above 0, else the unschedulable count). By hand with
    /// 1 s doubling to 10 s: four attempts that find no node back off 1, 2, 4, 8 s; an error then backs off 1 s (one error,
    /// not the fifth failure's 10 s), a second error 2 s; finding no node again counts the fifth such attempt: 10 s.
    /// </summary>
    [Fact]
    public void An_errors_backoff_counts_the_errors_in_a_row_not_the_attempts_that_found_no_node()
    {
        var queue = new SchedulingQueue<int>();
        queue.Add("p", 0, null, 0);
        var now = T0;
        TimeSpan Fail(Action<string, DateTimeOffset> outcome)
        {
            Assert.True(queue.TryPop(now, out _));
            outcome("p", now);
            queue.MoveAllToActive(now);
            var backoff = queue.NextBackoffExpiry!.Value - now;
            now += backoff;
            return backoff;
        }

        var backoffs = new[] { queue.MarkUnschedulable, queue.MarkUnschedulable, queue.MarkUnschedulable, queue.MarkUnschedulable,
            queue.Requeue, queue.Requeue, queue.MarkUnschedulable }.Select(outcome => Fail(outcome).TotalSeconds).ToList();
        Assert.Equal([1, 2, 4, 8, 1, 2, 10], backoffs);
    }

    /// <summary>
    /// kube's activeQ orders equal priorities by QueuedPodInfo.Timestamp (PrioritySort's Less), which a failed attempt
    /// refreshes ("Refresh the timestamp since the pod is re-added", AddUnschedulableIfNotPresent,
    /// pkg/scheduler/backend/queue/scheduling_queue.go, v1.35). a and d are queued; a's attempt fails (no node), then e is
    /// queued. After an event past a's 1 s backoff: d (queued before a's attempt), a, e (queued after it). Likewise after
    /// an error: f is queued, g's attempt fails, h is queued: f, g, h.
    /// </summary>
    [Fact]
    public void A_pod_that_failed_goes_behind_the_pods_of_its_priority_queued_before_its_attempt()
    {
        var queue = new SchedulingQueue<int>();
        queue.Add("a", 0, null, 0);
        queue.Add("d", 0, null, 0);
        Assert.Equal("a", Pop(queue, T0));
        queue.MarkUnschedulable("a", T0);
        queue.Add("e", 0, null, 0);
        queue.MoveAllToActive(T0.AddSeconds(1));
        Assert.Equal(["d", "a", "e"], Drain(queue, T0.AddSeconds(1)));

        var errors = new SchedulingQueue<int>();
        errors.Add("g", 0, null, 0);
        errors.Add("f", 0, null, 0);
        Assert.Equal("g", Pop(errors, T0));
        errors.Add("h", 0, null, 0);
        errors.Requeue("g", T0);
        Assert.Equal(["f", "g", "h"], Drain(errors, T0.AddSeconds(1)));
    }

    /// <summary>
    /// kube's cycles run one at a time, so pods that fail in one round are re-queued in the order they were popped. Here
    /// attempts overlap and their failures land in any order (each waits on its pod's answer): x and y are popped in that
    /// order, y's failure lands first, and after an event x still goes before y.
    /// </summary>
    [Fact]
    public void Overlapping_attempts_that_fail_keep_the_order_they_were_popped_in()
    {
        var queue = new SchedulingQueue<int>();
        queue.Add("x", 0, null, 0);
        queue.Add("y", 0, null, 0);
        Assert.Equal(["x", "y"], [Pop(queue, T0), Pop(queue, T0)]);
        queue.MarkUnschedulable("y", T0);
        queue.MarkUnschedulable("x", T0.AddMilliseconds(5));

        queue.MoveAllToActive(T0.AddSeconds(2));
        Assert.Equal(["x", "y"], Drain(queue, T0.AddSeconds(2)));
    }

    private static string Pop<T>(SchedulingQueue<T> queue, DateTimeOffset now)
    {
        Assert.True(queue.TryPop(now, out var pod));
        return pod.Name;
    }

    /// <summary>
    /// kube-scheduler's SchedulerPopFromBackoffQ, beta and on by default since v1.33 and so in v1.35 (pkg/features/kube_features.go):
    /// when activeQ is empty, Pop takes the head of podBackoffQ before its backoff ends (pkg/scheduler/backend/queue/active_queue.go,
    /// unlockedPop: "Try to pop from backoffQ when activeQ is empty"; backoff_queue.go, popBackoff, which "doesn't pop the pods
    /// from the podErrorBackoffQ"). podBackoffQ is ordered by backoff expiry, then as activeQ (lessBackoffCompletedWithPriority).
    /// By hand, 1 s first backoff: e (priority 9) and a (0) are popped, then b (5). e fails with an error at 0 s (error backoff
    /// to 1 s); a and b find no node at 0 s, c (1, popped last) at 0.2 s. An event at 0.5 s moves a and b to backoff until 1 s,
    /// c until 1.2 s; n (0) is queued. Pops at 0.5 s: n (active first); then backoff: b and a (both 1 s; b by priority, though
    /// a was queued first), c (1.2 s); e, after an error, waits until 1 s.
    /// </summary>
    [Fact]
    public void With_no_pod_active_a_pop_takes_a_pod_backing_off_after_finding_no_node_before_its_backoff_ends()
    {
        var queue = new SchedulingQueue<int>();
        queue.Add("e", 9, null, 0);
        queue.Add("a", 0, null, 0);
        Assert.Equal(["e", "a"], Drain(queue, T0));
        queue.Add("b", 5, null, 0);
        queue.Add("c", 1, null, 0);
        Assert.Equal(["b", "c"], Drain(queue, T0));
        queue.Requeue("e", T0);
        queue.MarkUnschedulable("a", T0);
        queue.MarkUnschedulable("b", T0);
        queue.MarkUnschedulable("c", T0.AddMilliseconds(200));
        var halfSecond = T0.AddMilliseconds(500);
        Assert.Equal(3, queue.MoveAllToActive(halfSecond));
        queue.Add("n", 0, null, 0);

        Assert.Equal(["n", "b", "a", "c"], Drain(queue, halfSecond));
        Assert.Equal((1, T0.AddSeconds(1)), (queue.BackoffCount, queue.NextBackoffExpiry));
        Assert.Equal(["e"], Drain(queue, T0.AddSeconds(1)));
    }

    [Fact]
    public void Requeue_backs_off_without_an_event_and_done_forgets()
    {
        var queue = new SchedulingQueue<string>();
        queue.Add("p", 0, null, "v1");
        queue.Add("p", 0, null, "v2"); // duplicate add keeps one entry with the newer item
        Assert.Equal(1, queue.Count);
        Assert.True(queue.TryPop(T0, out var first));
        Assert.Equal("v2", first.Item);
        queue.Add("p", 0, null, "v3"); // in flight: ignored except for the item
        Assert.Equal(0, queue.ActiveCount);
        queue.Requeue("p", T0);
        Assert.Empty(Drain(queue, T0.AddMilliseconds(500)));
        Assert.True(queue.TryPop(T0.AddSeconds(1), out var second));
        Assert.Equal(1, second.Attempts);
        queue.Done("p");
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryPop(T0.AddHours(1), out _));
    }
}
