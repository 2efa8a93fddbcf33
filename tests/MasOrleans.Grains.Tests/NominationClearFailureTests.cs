using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Pods;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// kube's prepareCandidate (pkg/scheduler/framework/preemption) treats clearing the lower pods' nominatedNodeName as
/// not critical: a failed status patch is logged and the preemption goes on. A lower pod whose cleared nomination could
/// not be stored threw into the preemptor's cycle after its victims were evicted, which failed the cycle (a backoff,
/// logged as a failed cycle).
/// </summary>
public sealed class NominationClearFailureTests : FailingWritesClusterTest<FailingPodWrites>
{
    private const string NotStored = "could not store that a higher-priority preemptor cleared its nomination";

    /// <summary>
    /// ncf-n (3 cpu) runs ncf-v (priority 0, 1 cpu); ncf-a (priority 100, 2 cpu, Never, a selector no node matches) is
    /// nominated there; every write of ncf-a without its nomination fails. ncf-h (priority 200, 3 cpu) preempts ncf-v:
    /// it runs, the failure is the Warning, and ncf-a shows the nomination it still has stored (memory not ahead of it).
    /// </summary>
    [Fact]
    public async Task A_lower_pod_whose_cleared_nomination_is_not_stored_leaves_the_preemptor_bound_and_logs_a_warning()
    {
        Log.Expect(NotStored);
        Log.Expect("mas-pod/ncf-a"); // the storage provider's own Error for the failed write
        var grains = Cluster.Client;
        var pool = new Dictionary<string, string> { ["pool"] = "ncf" };
        var node = grains.GetGrain<INodeGrain>("ncf-n");
        Assert.True((await node.Register(new NodeSpec { Name = "ncf-n", Capacity = ResourceVector.Of(cpuMilli: 3000, memoryBytes: 16L << 30), Labels = pool })).IsOk);
        var victim = grains.GetGrain<IPodGrain>("ncf-v");
        Assert.True((await victim.Create(PodOf("ncf-v", 1000) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitForPod(grains, "ncf-v", p => p.Phase == PodPhase.Running);
        var lower = grains.GetGrain<IPodGrain>("ncf-a");
        var nowhere = new Dictionary<string, string> { ["pool"] = "none-such" };
        Assert.True((await lower.Create(PodOf("ncf-a", 2000) with { Priority = 100, NodeSelector = nowhere, PreemptionPolicy = PreemptionPolicy.Never }, null)).Outcome.IsOk);
        await WaitForPod(grains, "ncf-a", p => p.Phase == PodPhase.Unschedulable);
        await lower.Nominate("ncf-n");
        Writes.Fail(s => s.Spec?.Name == "ncf-a" && s.NominatedNodeName is null && s.Phase.IsWaiting(), "cleared nomination");

        var preemptor = grains.GetGrain<IPodGrain>("ncf-h");
        Assert.True((await preemptor.Create(PodOf("ncf-h", 3000) with { Priority = 200, NodeSelector = pool }, null)).Outcome.IsOk);
        var bound = await WaitForPod(grains, "ncf-h", p => p.Phase == PodPhase.Running);

        Assert.Equal("ncf-n", bound.NodeName);
        Assert.True(Writes.Failed > 0);
        var warning = Assert.Single(Log.Records, r => r.Message.Contains(NotStored));
        Assert.Equal((LogLevel.Warning, typeof(PodGrain).FullName), (warning.Level, warning.Category));
        Assert.NotNull(warning.Exception);
        Assert.Equal("ncf-n", (await lower.Get())!.NominatedNodeName);
        Writes.Stop();
    }
}
