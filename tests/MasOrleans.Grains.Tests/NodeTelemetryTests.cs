using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>A node's telemetry: its readings, and the heartbeat whose silence makes it NotReady.</summary>
public sealed class NodeTelemetryTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Log.AssertClean();

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task Telemetry_silence_makes_a_node_not_ready_and_a_new_report_makes_it_ready_again()
    {
        const string name = "g-tele";
        var node = Grains.GetGrain<INodeGrain>(name);
        await node.Register(NodeSpecOf(name));
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.5 }, DateTimeOffset.UtcNow));
        // Not "and Ready": one reading keeps the node ready for only the grace (1 s), which a starved machine can spend
        // before this read. Registered nodes start ready; what the reading must do is arrive.
        await WaitForNode(Grains, name, v => v.Utilization.GetValueOrDefault("cpu") == 0.5);
        // Silent for longer than the grace period.
        await WaitForNode(Grains, name, v => !v.Ready);
        // Reporting again, regularly as a live node does, so the node stays ready until it is read.
        await using (ReportRegularly(name, cpu: 0.2))
            await WaitForNode(Grains, name, v => v.Ready && v.Utilization["cpu"] == 0.2);
    }

    [Fact]
    public async Task A_silent_node_gets_no_new_pods_until_it_reports_again()
    {
        const string name = "g-silent";
        await Grains.GetGrain<INodeGrain>(name).Register(NodeSpecOf(name) with { Labels = new Dictionary<string, string> { ["pool"] = "silent" } });
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.1 }, DateTimeOffset.UtcNow));
        await WaitForNode(Grains, name, v => !v.Ready);
        var pinned = PodOf("to-silent", cpuMilli: 100) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "silent" } };
        await Grains.GetGrain<IPodGrain>("to-silent").Create(pinned, null);
        var waiting = await WaitForPod(Grains, "to-silent", p => p.Phase == PodPhase.Unschedulable);
        Assert.Contains(waiting.Events, e => e.Message.Contains("not ready"));
        // Reporting again means reporting regularly, as a live node does: one reading alone makes the node ready for only
        // the grace period (1 s here), which a loaded machine can spend before the pod's retry reads the node.
        PodView placed;
        await using (ReportRegularly(name, cpu: 0.1))
            placed = await WaitForPod(Grains, "to-silent", p => p.Phase == PodPhase.Running);
        Assert.Equal(name, placed.NodeName);
    }

    [Fact]
    public async Task A_node_that_stopped_reporting_shows_no_utilization_until_it_reports_again()
    {
        // kubectl top node has no metrics for a node metrics-server cannot reach; here the last reading was kept and served
        // as its load (/metrics, the autoscaler's mean) for as long as the node stayed silent.
        const string name = "g-stale";
        await Grains.GetGrain<INodeGrain>(name).Register(NodeSpecOf(name));
        var at = DateTimeOffset.UtcNow;
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.5 }, at));
        await WaitForNode(Grains, name, v => v.LastTelemetry == at);
        await WaitForNode(Grains, name, v => !v.Ready);
        var silent = (await Grains.GetGrain<INodeGrain>(name).GetView())!;
        Assert.Empty(silent.Utilization);
        Assert.Equal(at, silent.LastTelemetry);
        await using (ReportRegularly(name, cpu: 0.2))
            await WaitForNode(Grains, name, v => v.Ready && v.Utilization.GetValueOrDefault("cpu") == 0.2);
    }

    [Fact]
    public async Task A_node_that_went_silent_is_still_not_ready_after_a_restart_and_shows_when_it_last_reported()
    {
        // Its readiness lived in memory: a restarted node grain was Ready (taking new pods for a grace period though it never
        // reported again, and Ready once more after every restart) with no last reading. Kube's node lifecycle controller
        // keeps a node's stored Ready condition across its own restarts (node_lifecycle_controller.go, tryUpdateNodeHealth).
        const string name = "g-restart-silent";
        var node = Grains.GetGrain<INodeGrain>(name);
        await node.Register(NodeSpecOf(name));
        var at = DateTimeOffset.UtcNow;
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.5 }, at));
        await WaitForNode(Grains, name, v => v.LastTelemetry == at);
        await WaitForNode(Grains, name, v => !v.Ready);
        var silent = (await node.GetView())!;

        await fixture.Cluster.DeactivateAsync(node);
        var restarted = (await node.GetView())!;
        Assert.Equal((false, at, silent.ReadyChanged), (restarted.Ready, restarted.LastTelemetry, restarted.ReadyChanged));
        Assert.Empty(restarted.Utilization);
        Assert.NotEqual(silent.Incarnation, restarted.Incarnation); // it did restart
        // A report brings it back, as before the restart.
        await using (ReportRegularly(name, cpu: 0.2))
            await WaitForNode(Grains, name, v => v.Ready && v.Utilization.GetValueOrDefault("cpu") == 0.2);
    }

    [Fact]
    public async Task A_reading_older_than_the_one_held_is_dropped_and_is_no_heartbeat()
    {
        // Two reports raced through two silos: the one the other silo stamped 30 s earlier reaches the node last.
        const string name = "g-reorder";
        await Grains.GetGrain<INodeGrain>(name).Register(NodeSpecOf(name));
        var newest = DateTimeOffset.UtcNow;
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.5 }, newest));
        await WaitForNode(Grains, name, v => v.LastTelemetry == newest);
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.9 }, newest.AddSeconds(-30)));
        // The silence after the newest reading ends it (the grace is 1 s); taken, the older one would be the last heartbeat.
        await WaitForNode(Grains, name, v => !v.Ready);
        Assert.Equal(newest, (await Grains.GetGrain<INodeGrain>(name).GetView())!.LastTelemetry);
    }

    [Fact]
    public async Task A_reading_stamped_ahead_of_the_node_counts_as_now_and_holds_back_no_later_one()
    {
        // A silo whose clock runs a day ahead stamped it: taken at its word, it was the node's heartbeat time for a day, and
        // by newest-wins every reading through the other silos would have been dropped until then.
        const string name = "g-ahead";
        await Grains.GetGrain<INodeGrain>(name).Register(NodeSpecOf(name));
        var ahead = DateTimeOffset.UtcNow.AddDays(1);
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.5 }, ahead));
        await WaitForNode(Grains, name, v => v.LastTelemetry is not null);
        Assert.True((await Grains.GetGrain<INodeGrain>(name).GetView())!.LastTelemetry <= DateTimeOffset.UtcNow);
        var next = DateTimeOffset.UtcNow;
        await Report(new TelemetryReading(name, new Dictionary<string, double> { ["cpu"] = 0.3 }, next));
        await WaitForNode(Grains, name, v => v.LastTelemetry == next);
    }

    [Fact]
    public async Task A_node_that_never_reports_stays_ready()
    {
        var node = Grains.GetGrain<INodeGrain>("g-quiet");
        await node.Register(NodeSpecOf("g-quiet"));
        await Task.Delay(TimeSpan.FromSeconds(GrainClusterFixture.HeartbeatGraceSeconds * 2));
        Assert.True((await node.GetView())!.Ready);
    }

    /// <summary>A reading the node must take: false is a node that does not exist.</summary>
    private async Task Report(TelemetryReading reading) => Assert.True(await Grains.GetGrain<INodeGrain>(reading.Node).ReportTelemetry(reading));

    /// <summary>A reading every 200 ms, as a live node's agent sends them, until disposed.</summary>
    private Reporter ReportRegularly(string node, double cpu) => new(Grains.GetGrain<INodeGrain>(node), node, cpu);

    private sealed class Reporter : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Reporter(INodeGrain grain, string node, double cpu) => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Assert.True(await grain.ReportTelemetry(new TelemetryReading(node, new Dictionary<string, double> { ["cpu"] = cpu }, DateTimeOffset.UtcNow)));
                await Task.Delay(200);
            }
        });

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
