using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod's creation time names which pod of its name it is (<see cref="PodSpec.CreatedAt"/>), and a node takes the later
/// of two for the one not deleted. Stamped from the silo's clock, a pod created again on a silo whose clock is behind the
/// deleted one's (or after a clock step back) was the earlier: its node kept the deleted pod's reservation and refused it.
/// Kubernetes gives each pod a new metadata.uid whatever the clocks say; here the pod grain, the one activation of the
/// name, stamps the new pod after the deleted one.
/// </summary>
public sealed class PodIncarnationClockTests : OwnClusterTest
{
    private readonly SteppingClock _clock = new();

    protected override void Configure(ISiloBuilder silo) => silo.Services.AddSingleton<TimeProvider>(_clock);

    [Fact]
    public async Task A_pod_created_again_after_the_clock_went_back_is_later_than_the_deleted_one_and_takes_its_lingering_room()
    {
        var grains = Cluster.Client;
        var pool = new Dictionary<string, string> { ["pool"] = "skew" };
        var node = grains.GetGrain<INodeGrain>("g-skew");
        Assert.True((await node.Register(new NodeSpec { Name = "g-skew", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30), Labels = pool })).IsOk);
        var pod = grains.GetGrain<IPodGrain>("skew");
        Assert.True((await pod.Create(PodOf("skew", cpuMilli: 3000) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the first pod running");
        var deleted = (await node.GetView())!.Pods.Single(b => b.Pod.Name == "skew");
        Assert.True((await pod.Delete()).IsOk);
        // Its release lost (its node's silo died): the node holds what it held for the deleted pod.
        Assert.True((await node.Reserve(deleted.Pod, deleted.Gpus)).Reserved);

        // The silo's clock is Orleans' too: an activation made after the step back cannot be given
        // a collection time before the collector's earliest bucket, and Orleans logs each such activation and read as an Error.
        Log.Expect("^The earliest collection that can be scheduled from now is for ");
        _clock.Offset = TimeSpan.FromHours(-1);
        Assert.True((await pod.Create(PodOf("skew", cpuMilli: 3000) with { NodeSelector = pool }, null)).Outcome.IsOk);

        // Its node frees the deleted pod's room for it (it refused it, taking it for the deleted pod's late cycle).
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod created again running");
        var created = (await pod.Get())!.Spec.CreatedAt;
        Assert.True(created > deleted.Pod.CreatedAt, $"created again at {created:O}, not after the deleted pod's {deleted.Pod.CreatedAt:O}");
        var held = Assert.Single((await node.GetView())!.Pods);
        Assert.Equal(created, held.Pod.CreatedAt);
        Assert.True((await pod.Delete()).IsOk);
        Assert.Empty((await node.GetView())!.Pods);
    }
}
