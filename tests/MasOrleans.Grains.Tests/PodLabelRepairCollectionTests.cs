using MasOrleans.Grains.Pods;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A repair's timer keeps its pod active (KeepAlive) only while it repairs: once the node took the labels, the idle pod is
/// collected as any other. Pod activations here are collected after three idle seconds. KeepAlive counts a tick as a call
/// (it does not hold the activation between ticks), so the repair's first delay here is 300 ms: its waits (0.3, 0.6, 1.2,
/// 2.4 s) stay below that age while four of them add up to more than the age and its 1 s quantum.
/// </summary>
public sealed class PodLabelRepairCollectionTests() : LabelRepairTest(new Dictionary<string, string?> { ["Scheduler:LabelRepairFirstDelayMilliseconds"] = "300" })
{
    private static readonly TimeSpan PodCollectionAge = TimeSpan.FromSeconds(3);

    protected override void Configure(ISiloBuilder silo)
    {
        base.Configure(silo);
        silo.Configure<GrainCollectionOptions>(o =>
        {
            o.CollectionQuantum = TimeSpan.FromSeconds(1);
            o.ClassSpecificCollectionAge[typeof(PodGrain).FullName!] = PodCollectionAge;
        });
    }

    /// <summary>Four failed asks come 4.5 s after the failure (the pod's last call), past the 3 s age and its 1 s quantum.</summary>
    [Fact]
    public async Task A_pod_still_repairing_stays_active()
    {
        var (pod, node) = await NodeLeftWithNewLabels("lr-busy");
        var asked = Faults.AskedOf("lr-busy-node");

        await WaitUntil(() => Task.FromResult(Faults.AskedOf("lr-busy-node") >= asked + 4), "four failed asks");

        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        Assert.Contains(await management.GetDetailedGrainStatistics(), g => g.GrainId.ToString() == "mas-pod/lr-busy");
        Assert.False(Logged(LogLevel.Warning, "Pod lr-busy deactivated before node lr-busy-node took its labels"));
        Faults.Otherwise = null;
        // Asked now rather than after the next, 4.8 s wait, which the idle pod would not outlive.
        await pod.SetMetadata(Team("old"), null);
        await WaitUntil(async () => await NodeTeam(node, "lr-busy") == "old", "the node holding the pod's labels");
    }

    [Fact]
    public async Task A_repaired_pod_is_collected_when_idle()
    {
        var (_, node) = await NodeLeftWithNewLabels("lr-idle");

        Faults.Otherwise = null;
        await WaitUntil(async () => await NodeTeam(node, "lr-idle") == "old", "the node holding the pod's labels");
        await WaitUntil(() => Task.FromResult(Logged(LogLevel.Information, "Node lr-idle-node took pod lr-idle's labels")), "the repair logged");

        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        await WaitUntil(async () => !(await management.GetDetailedGrainStatistics()).Any(g => g.GrainId.ToString() == "mas-pod/lr-idle"), "the idle pod collected");
    }
}
