using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A node's stored last telemetry time, restored by an activation on a silo whose clock is behind the one that stored it.
/// Taken as stored, every reading this silo stamped was older and dropped, and a dropped reading is no heartbeat: the node
/// went NotReady once the grace ran out, its pods evicted, though it never stopped reporting.
/// </summary>
public sealed class NodeTelemetryClockTests() : OwnClusterTest(settings: new Dictionary<string, string?> { ["Telemetry:HeartbeatGraceSeconds"] = "3600" })
{
    private readonly SteppingClock _clock = new();

    protected override void Configure(ISiloBuilder silo) => silo.Services.AddSingleton<TimeProvider>(_clock);

    [Fact]
    public async Task A_node_restored_on_a_silo_whose_clock_is_behind_takes_that_silos_next_reading()
    {
        const string name = "g-clock-behind";
        var grains = Cluster.Client;
        var node = grains.GetGrain<INodeGrain>(name);
        await node.Register(NodeSpecOf(name));
        var stored = _clock.GetUtcNow();
        Assert.True(await node.ReportTelemetry(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.5 }, stored)));
        await WaitForNode(grains, name, v => v.LastTelemetry == stored);
        await node.StoreLastTelemetry();

        // The next activation's silo runs a minute behind: more than the default grace (30 s, so the node
        // would go NotReady), and less than Orleans' activation collector takes (an hour back, it refuses to activate).
        _clock.Offset = TimeSpan.FromMinutes(-1);
        await Cluster.DeactivateAsync(node);
        var restored = (await node.GetView())!;
        Assert.True(restored.LastTelemetry <= _clock.GetUtcNow(), $"restored {restored.LastTelemetry:O}, this silo's clock {_clock.GetUtcNow():O}");

        var next = _clock.GetUtcNow();
        Assert.True(await node.ReportTelemetry(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.3 }, next)));
        await WaitForNode(grains, name, v => v.LastTelemetry == next && v.Utilization.GetValueOrDefault("cpu") == 0.3);
    }
}
