using MasOrleans.Grains.Pods;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A repair's timer keeps its pod active (KeepAlive) only while it repairs: once the node took the labels, the idle pod is
/// collected as any other. Pod activations here are collected after three idle seconds.
/// </summary>
public sealed class PodLabelRepairCollectionTests() : LabelRepairTest()
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
