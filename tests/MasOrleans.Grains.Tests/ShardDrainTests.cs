using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A stopping silo drains its queue shards before its node grains refuse reservations: a cycle still reserving after
/// the drain could store a binding the node's next activation, on another silo, never read.
/// </summary>
public sealed class ShardDrainTests() : OwnClusterTest(recorded: LogLevel.Information)
{
    /// <summary>
    /// Failed before: the pod's removal (its deletion) took its cycle out of the in-flight window while the cycle still
    /// reserved, and Drain, which waited for that window alone, returned at once. The cycle's binding write is held here
    /// until the test ends, so a Drain that waits for the cycle's task returns only at its deadline, saying how many
    /// cycles were still running.
    /// </summary>
    [Fact]
    public async Task Drain_waits_for_a_cycle_its_pods_removal_took_out_of_the_window()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("dr-node");
        Assert.True((await node.Register(NodeSpecOf("dr-node"))).IsOk);
        var services = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress);
        // The silo's view knows the node (ready), so the cycle chooses it rather than finding no node.
        await WaitUntil(() => Task.FromResult(services.GetRequiredService<SiloClusterView>().Node("dr-node") is { Ready: true }), "the view's node");
        Bindings.Stall("dr-node");
        try
        {
            Assert.True((await Cluster.Client.GetGrain<IPodGrain>("dr-pod").Create(PodOf("dr-pod"), null)).Outcome.IsOk);
            await Bindings.Reached("dr-node").WaitAsync(TimeSpan.FromSeconds(10));
            var shards = services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
            var shard = Cluster.Client.GetGrain<ISchedulingQueueGrain>(QueueShards.Key(QueueShards.Of("dr-pod", shards)));
            await shard.Remove("dr-pod");
            Log.Expect("stops draining with 1 scheduling cycle\\(s\\) still running");

            await shard.Drain();

            Assert.Contains(Log.Records, r => r.Level == LogLevel.Warning && r.Message.Contains("stops draining with 1 scheduling cycle(s) still running", StringComparison.Ordinal));
        }
        finally
        {
            // The cycle ends, so the cluster stops without waiting out the held write.
            Bindings.Resume("dr-node");
        }
    }
}
