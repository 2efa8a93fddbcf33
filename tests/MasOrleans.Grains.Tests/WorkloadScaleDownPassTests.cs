using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Workloads;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A deleted pod tells its workload (IWorkloadGrain.PodFinished), which replaces a pod someone else deleted. The
/// workload's own deletions told it too, and each notice ran a whole pass reading every pod: a scale-down of N ran N
/// passes more (1000 → 500: about 500 passes of 500 Gets). A pod the workload no longer counts is no reason for a pass.
/// </summary>
public sealed class WorkloadScaleDownPassTests() : OwnClusterTest(settings: new Dictionary<string, string?>
{
    // Neither the resync nor the reminder runs a pass during the test: every Get counted is the scale's or the test's.
    ["Workloads:ResyncSeconds"] = "3600",
    ["Workloads:ReminderSeconds"] = "3600",
})
{
    private readonly PodGetsByWorkloads _gets = new();

    protected override void Configure(ISiloBuilder silo) => silo.AddOutgoingGrainCallFilter(_gets);

    /// <summary>
    /// Failed before: 28 Gets, the scale's pass (10) and the test's look (2), and 8 passes of 2 more, one per pod
    /// the scale-down deleted; and 4 Gets, not 2, after a notice for a pod already forgotten.
    /// </summary>
    [Fact]
    public async Task A_scale_down_runs_one_pass_not_one_per_deleted_pod()
    {
        await Cluster.Client.GetGrain<INodeGrain>("g-sd-n").Register(NodeSpecOf("g-sd-n", cpuMilli: 32000));
        var workload = Cluster.Client.GetGrain<IWorkloadGrain>("g-sd");
        Assert.True((await workload.Create(PodOf("g-sd", cpuMilli: 100), 10)).IsOk);
        await WaitUntil(async () => (await workload.Get())!.Pods.Count(p => p.Phase == PodPhase.Running) == 10, "ten running replicas");
        var replicas = (await workload.Get())!.Pods.Select(p => p.Name).ToList();

        _gets.Reset();
        Assert.True((await workload.Scale(2)).IsOk);
        // Asked after the scale: the deleted pods' notices, sent before each deletion answered the workload, are handled first.
        var kept = (await workload.Get())!.Pods.Select(p => p.Name).ToList();
        Assert.Equal(2, kept.Count);
        Assert.Equal(10 + 2, _gets.Count);

        // The notices' order against the test's calls is not guaranteed (other senders): one sent from here for a pod the
        // workload forgot, then an awaited look, is handled in that order, so a pass it ran would be counted.
        _gets.Reset();
        await workload.PodFinished(replicas.Except(kept).First(), PodPhase.Failed, "Deleted");
        Assert.Equal(2, (await workload.Get())!.Pods.Count);
        Assert.Equal(2, _gets.Count);
    }

    /// <summary>Counts IPodGrain.Get calls made by workload grains.</summary>
    private sealed class PodGetsByWorkloads : IOutgoingGrainCallFilter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Reset() => Interlocked.Exchange(ref _count, 0);

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod is { Name: nameof(IPodGrain.Get) } method && method.DeclaringType == typeof(IPodGrain)
                && context.SourceId is { } source && source.Type.ToString() == WorkloadGrain.GrainTypeName)
                Interlocked.Increment(ref _count);
            return context.Invoke();
        }
    }
}
