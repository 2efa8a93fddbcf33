using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

/// <summary>
/// A nomination counted in a cluster names the version its pod stored, so that a clear (kube's prepareCandidate,
/// clearNominatedNodeName, v1.35 pkg/scheduler/framework/preemption/preemption.go) forgets the nomination it cleared and
/// no newer one.
/// </summary>
public sealed class NominationVersionTests
{
    private const long Cpu = 1000;

    /// <summary>
    /// A cycle the sweep abandoned hears its Nominate's reply late, after the pod's next cycle nominated it to the same
    /// node and that store was heard: the entry keeps the newer version, which the next clear names. Before, the late
    /// store labelled it with the older version, a clear of the newer was ignored and the pod stayed counted for good.
    /// </summary>
    [Fact]
    public void A_late_store_of_an_older_nomination_leaves_the_newer_version()
    {
        var cluster = Of(Node("n0", 4 * Cpu, 4 * Gi));
        var pod = Pod("p", cpuMilli: Cpu) with { Priority = 3 };
        cluster.Nominate(0, pod);
        cluster.NominationStored("p", 0, 7);

        cluster.NominationStored("p", 0, 5);

        Assert.Equal([("p", 7L)], cluster.NominatedBelow(0, 10)!.Select(n => (n.Pod.Name, n.Version)));
        cluster.ForgetNomination("p", 0, 7);
        Assert.Null(cluster.NominatedNodeOf("p"));
    }

    /// <summary>
    /// Replay and the in-process callers run the cycle over an <see cref="InMemoryCluster"/>, which is both the view and
    /// the pods' store. "lower" (priority 3, 2 cores) was nominated to n0 by its own cycle's preemption, as the cycle
    /// does (in the cluster, then through the port that stores it); "high" (priority 10, 3 cores) preempts "low" there
    /// and clears lower's nomination: n0 (4 cores) holds high and 1 core, lower waits anew. Before, the in-memory cluster
    /// stored no version, the cycle sends no clear for a nomination not stored, and lower stayed nominated for good.
    /// </summary>
    [Fact]
    public async Task An_in_memory_preemptor_clears_the_lower_nomination_on_its_node()
    {
        var cluster = Of(Node("n0", 4 * Cpu, 32 * Gi));
        Assert.True(cluster.TryBind(0, Pod("low", cpuMilli: 4 * Cpu) with { Priority = 0 }, GpuAllocation.None));
        var ports = new InMemoryCluster(cluster, "kube");
        var lower = Pod("lower", cpuMilli: 2 * Cpu) with { Priority = 3 };
        cluster.Nominate(0, lower);
        await ports.Nominate("n0", lower, "0/1 nodes are available: 1 Insufficient cpu.");
        var cycle = ports.CreateCycle(new PolicySchedulers(PolicyCatalog.CreateDefault()), new Random(1), new CycleOptions { MaxAttempts = 1 });

        var high = await cycle.Run(Pod("high", cpuMilli: 3 * Cpu) with { Priority = 10 });

        Assert.Equal(("n0", CycleVerdict.Bound), (high.Node, high.Verdict));
        Assert.False(cluster.TryGetPodLocation("low", out _, out _));
        Assert.Null(cluster.NominatedNodeOf("lower"));
    }
}
