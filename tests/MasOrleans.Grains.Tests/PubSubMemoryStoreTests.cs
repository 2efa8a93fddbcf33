using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Orleans.Streams;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The stream pub-sub's rendezvous state in memory storage (which runs the storage serializer too) is read back when
/// its grain activates again: a telemetry stream's rendezvous deactivated and re-activated still registers consumers.
/// </summary>
public sealed class PubSubMemoryStoreTests() : OwnClusterTest(settings: new Dictionary<string, string?>
{
    // Readings must not expire while the test waits for them (the fixture's grace is 1 s).
    ["Telemetry:HeartbeatGraceSeconds"] = "3600",
})
{
    [Fact]
    public async Task A_rendezvous_activated_again_reads_its_stored_state_back()
    {
        const string name = "g-pubsub";
        var grains = Cluster.Client;
        await grains.GetGrain<INodeGrain>(name).Register(NodeSpecOf(name));
        var stream = grains.GetStreamProvider(TelemetryStreams.Provider)
            .GetStream<TelemetryReading>(Orleans.Runtime.StreamId.Create(TelemetryStreams.Namespace, name));
        // The first reading registers its producers with the stream's rendezvous grain, which writes them to its store.
        await stream.OnNextAsync(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.25 }, DateTimeOffset.UtcNow));
        await WaitForNode(grains, name, v => v.Utilization.GetValueOrDefault("cpu") == 0.25);

        // Every idle activation goes, the rendezvous grain with them; a subscription activates it again, reading its state.
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var received = new TaskCompletionSource<TelemetryReading>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await stream.SubscribeAsync((reading, _) =>
        {
            received.TrySetResult(reading);
            return Task.CompletedTask;
        });
        await stream.OnNextAsync(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.5 }, DateTimeOffset.UtcNow));
        await WaitForNode(grains, name, v => v.Utilization.GetValueOrDefault("cpu") == 0.5);
        Assert.Equal(0.5, (await received.Task.WaitAsync(TimeSpan.FromSeconds(30))).Utilization["cpu"]);
        await subscription.UnsubscribeAsync();
    }
}
