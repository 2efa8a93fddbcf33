using System.Net;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>The workload autoscaler on a live silo (<see cref="ControlLoopFixture"/>): its steps, cooldowns, stabilization and events.</summary>
[Collection(ControlLoopCollection.Name)]
public sealed class WorkloadAutoscalingTests(ControlLoopFixture fixture) : ControlLoopTestBase(fixture)
{
    [Fact]
    public async Task Autoscaler_follows_node_cpu_with_seed001_steps_and_hpa_rounding_and_respects_cooldowns()
    {
        await Nodes("as", "as-a");
        using var telemetry = new TelemetryPump(Http, "as-a") { Cpu = 0.9 };
        await CreateWorkload("as", replicas: 2, pool: "as", autoscale: new
        {
            minReplicas = 1, maxReplicas = 6, targetCpuUtilization = 50, scaleUpCooldownSeconds = 1, scaleDownCooldownSeconds = 1.5,
        });
        // 90% against a 50% target: ratio 1.8, so 2 -> ceil(3.6) = 4 -> ceil(7.2) = 7, capped at 6, one step per cooldown.
        await WaitForWorkload("as", w => w.GetProperty("replicas").GetInt32() == 6, timeoutSeconds: 20);
        telemetry.Cpu = 0.1; // under half the target: steps of 2 down to the minimum
        await WaitForWorkload("as", w => w.GetProperty("replicas").GetInt32() == 1, timeoutSeconds: 20);

        var events = await Events("workloads", "as");
        var ups = events.Where(e => e.Reason == "ScaledUp").ToList();
        var downs = events.Where(e => e.Reason == "ScaledDown").ToList();
        Assert.Equal(["2 -> 4", "4 -> 6"], ups.Select(e => Step(e.Message)));
        Assert.Equal(["6 -> 4", "4 -> 2", "2 -> 1"], downs.Select(e => Step(e.Message)));
        Assert.Contains(events, e => e.Reason == "ScaleCooldown");
        AssertSpaced(ups, TimeSpan.FromSeconds(1));
        AssertSpaced([ups[^1], .. downs], TimeSpan.FromSeconds(1.5));
    }

    /// <summary>
    /// Replicas the cluster has no room for count as idle on a scale-up, as HPA counts Pending pods
    /// (replica_calculator.go): 2 replicas fill their node's free room at 90% against a 50% target and ask for
    /// ceil(2 * 1.8) = 4; the 2 new ones stay Unschedulable, so the ratio over all 4 is 1.8 * 2 / 4 = 0.9, within the
    /// tolerance, and the count holds. Each pass past the cooldown asked for ceil(4 * 1.8) = 8, then the maximum, 10.
    /// </summary>
    [Fact]
    public async Task Replicas_that_cannot_be_placed_do_not_make_the_autoscaler_ask_for_more()
    {
        await Nodes("pd", "pd-a");
        using (var blocker = await Http.Post("/api/v1/pods", new { name = "pd-blocker", requests = Cpu("2"), nodeSelector = new Dictionary<string, string> { ["pool"] = "pd" } }))
            Assert.Equal(HttpStatusCode.Accepted, blocker.StatusCode);
        await Http.WaitFor("/api/v1/pods/pd-blocker", p => p.Phase() == "Running");
        using var telemetry = new TelemetryPump(Http, "pd-a") { Cpu = 0.9 };
        await CreateWorkload("pd", replicas: 2, pool: "pd", autoscale: new
        {
            minReplicas = 1, maxReplicas = 10, targetCpuUtilization = 50, scaleUpCooldownSeconds = 0.5, scaleDownCooldownSeconds = 3600,
        });
        await WaitForWorkload("pd", w => w.GetProperty("replicas").GetInt32() == 4 && Ready(w) == 2 && w.GetProperty("unschedulable").GetInt32() == 2);
        // A pass that keeps the count records nothing, so what proves that the autoscaler had its chances at 90% past
        // the scale-up cooldown is a later pass that records something: from (cooldown + two resyncs) after the scale-up
        // the load drops to 10%, which asks for 2 and is held at 4 by the hour's scale-down window (ScaleStabilized).
        // That pass came after the 90% ones, which would have scaled up, so none of them asked for more.
        var scaledUp = Assert.Single(await Events("workloads", "pd"), e => e.Reason == "ScaledUp");
        var chances = scaledUp.LastSeen + TimeSpan.FromSeconds(0.5 + 2 * 0.3) - DateTimeOffset.UtcNow;
        if (chances > TimeSpan.Zero) await Task.Delay(chances);
        telemetry.Cpu = 0.1;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<Event> events;
        while (!(events = await Events("workloads", "pd")).Any(e => e.Reason == "ScaleStabilized"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no pass at 10% recorded its decision; events: {string.Join(" | ", events.Select(e => $"{e.Reason}: {e.Message}"))}");
            await Task.Delay(100);
        }
        Assert.Equal(4, (await Http.GetJson("/api/v1/workloads/pd")).GetProperty("replicas").GetInt32());
        Assert.Equal(["2 -> 4"], events.Where(e => e.Reason == "ScaledUp").Select(e => Step(e.Message)));
    }

    /// <summary>
    /// A scale-up starts a long cooldown while the CPU stays high: each resync (0.3 s here) decides ScaleCooldown again,
    /// its message naming the seconds left. Those once took all 32 kept events within 10 s, so the workload's events no
    /// longer said that it had scaled, or that it was created. As kube's controllers' recorder does (client-go
    /// tools/record/events_cache.go), the 10th distinct message of a reason and all later ones are one combined event.
    /// </summary>
    [Fact]
    public async Task A_long_cooldown_repeated_each_resync_does_not_push_the_scaling_out_of_the_workloads_events()
    {
        await Nodes("cd", "cd-a");
        using var telemetry = new TelemetryPump(Http, "cd-a") { Cpu = 0.9 };
        await CreateWorkload("cd", replicas: 1, pool: "cd", autoscale: new
        {
            minReplicas = 1, maxReplicas = 6, targetCpuUtilization = 50, scaleUpCooldownSeconds = 3600, scaleDownCooldownSeconds = 3600,
        });
        // 90% against 50%: 1 -> ceil(1.8) = 2, then 2 asks for 4 on every pass of the hour's cooldown.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<Event> events;
        while ((events = await Events("workloads", "cd")).Where(e => e.Reason == "ScaleCooldown").Sum(e => e.Count) <= MasOrleans.Abstractions.Contracts.ObjectEvents.MaxEvents)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"the cooldowns never outnumbered the {MasOrleans.Abstractions.Contracts.ObjectEvents.MaxEvents} kept events; listed: {string.Join(" | ", events.Select(e => $"{e.Reason} x{e.Count}"))}");
            await Task.Delay(200);
        }
        Assert.Contains(events, e => e.Reason == "Created");
        Assert.Equal(["1 -> 2"], events.Where(e => e.Reason == "ScaledUp").Select(e => Step(e.Message)));
        var cooldowns = events.Where(e => e.Reason == "ScaleCooldown").ToList();
        Assert.Equal(10, cooldowns.Count);
        Assert.StartsWith("(combined from similar events): cpu 90% vs target 50% asks for 4 replica(s)", cooldowns[^1].Message, StringComparison.Ordinal);
        Assert.Equal(2, (await Http.GetJson("/api/v1/workloads/cd")).GetProperty("replicas").GetInt32());
    }

    /// <summary>
    /// Node CPU dipping to 10% between readings at the 50% target: each dip asked for 4 - 2 = 2 replicas and, the
    /// cooldown being over, got them (then the load at target kept 2). A scale-down now needs every recommendation of
    /// its window (the 30 s scale-down cooldown, HPA's stabilization) to be lower; a lasting dip still scales down.
    /// Each reading reaches the silo before the next (<see cref="TelemetryPump.Deliver"/>) and each dip lasts until a pass
    /// decided on it (ScaleStabilized): readings alternated every 400 ms by the clock were all posted in dips by a pump
    /// starved at load 77, a lasting dip that scaled down as it should. The window is 30 s so that a pass at the target
    /// missed between dips (the 600 ms wait for one is a clock's, which a stalled process can miss) is harmless: the
    /// window still holds the earlier ones, the first of them the workload's own count. The scale-down cooldown counts
    /// from the last change only (none here), so the first dip would scale down without the window.
    /// </summary>
    [Fact]
    public async Task Autoscaler_does_not_scale_down_on_dips_between_readings_at_target()
    {
        await Nodes("fl", "fl-a");
        using var telemetry = new TelemetryPump(Http, "fl-a") { Cpu = 0.5 };
        await CreateWorkload("fl", replicas: 4, pool: "fl", autoscale: new
        {
            minReplicas = 1, maxReplicas = 6, targetCpuUtilization = 50, scaleUpCooldownSeconds = 0, scaleDownCooldownSeconds = 30,
        });
        await WaitForWorkload("fl", w => Ready(w) == 4);
        for (var dip = 0; dip < 4; dip++)
        {
            await telemetry.Deliver(0.5);
            // A pass or two at the target (resync 0.3 s) before the next dip; the window holds the earlier ones too.
            await Task.Delay(600);
            var stabilized = await Stabilized("fl");
            await telemetry.Deliver(0.1);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (await Stabilized("fl") == stabilized)
            {
                var events = await Events("workloads", "fl");
                Assert.True(DateTime.UtcNow < deadline, $"no pass decided on dip {dip + 1} within 20 s; events: {string.Join(" | ", events.Select(e => $"{e.Reason}: {e.Message}"))}");
                Assert.DoesNotContain(events, e => e.Reason == "ScaledDown");
                await Task.Delay(100);
            }
        }
        Assert.Equal(4, (await Http.GetJson("/api/v1/workloads/fl")).GetProperty("replicas").GetInt32());
        Assert.DoesNotContain(await Events("workloads", "fl"), e => e.Reason == "ScaledDown");

        await telemetry.Deliver(0.1);
        // Once the window (30 s) holds only recommendations at 10%, the step down by 2; 30 s more for a starved machine.
        await WaitForWorkload("fl", w => w.GetProperty("replicas").GetInt32() == 2, timeoutSeconds: 30 + 30);
    }

    /// <summary>How many passes held the count within the scale-down window (ScaleStabilized, repeats counted).</summary>
    private async Task<int> Stabilized(string workload) =>
        (await Events("workloads", workload)).Where(e => e.Reason == "ScaleStabilized").Sum(e => e.Count);
}
