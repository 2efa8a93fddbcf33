using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Workloads;

namespace MasOrleans.Grains.Tests;

/// <summary>Seed 001's formulas with HPA's rounding and tolerance, decided on a fixed clock.</summary>
public sealed class AutoscalerTests
{
    private static readonly AutoscaleSpec Spec = new(MinReplicas: 2, MaxReplicas: 10, TargetCpuUtilization: 70, ScaleUpCooldownSeconds: 60, ScaleDownCooldownSeconds: 300);
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(4, 70.0, 4)]   // at target: ratio 1
    [InlineData(4, 140.0, 8)]  // ratio 2
    [InlineData(4, 100.0, 6)]  // 4 * 1.43 = 5.71, rounded up as HPA (the seed's int() gave 5)
    [InlineData(8, 200.0, 10)] // capped at max
    [InlineData(4, 76.0, 4)]   // ratio 1.086: within HPA's 10% tolerance
    [InlineData(4, 64.0, 4)]   // ratio 0.914: within the tolerance too (the seed stepped down to 3)
    [InlineData(4, 60.0, 3)]   // below target: one step down
    [InlineData(4, 30.0, 2)]   // under half the target: two steps down
    [InlineData(3, 10.0, 2)]   // never below min
    public void Desired_replicas_follow_the_seed(int current, double utilization, int expected) =>
        Assert.Equal(expected, Autoscaler.DesiredReplicas(Spec, current, utilization));

    /// <summary>
    /// A workload of one or two replicas at the default 70% target: node CPU tops out at 100%, so the seed's truncation
    /// (int(1 * 1.43) = 1, int(2 * 1.43) = 2) never scaled it up. HPA's ceil (replica_calculator.go) does.
    /// </summary>
    [Theory]
    [InlineData(1, 90.0, 2)]   // ceil(1 * 1.286) = 2
    [InlineData(1, 100.0, 2)]  // ceil(1 * 1.429) = 2
    [InlineData(2, 100.0, 3)]  // ceil(2 * 1.429) = 3
    [InlineData(2, 80.0, 3)]   // ratio 1.143, past the tolerance: ceil(2.286) = 3
    public void Small_workloads_scale_up_when_cpu_is_above_target(int current, double utilization, int expected) =>
        Assert.Equal(expected, Autoscaler.DesiredReplicas(Spec with { MinReplicas = 1 }, current, utilization));

    /// <summary>
    /// HPA on a scale-up with replicas not Running (kubernetes pkg/controller/podautoscaler/replica_calculator.go
    /// GetResourceReplicas: groupPods puts Pending pods with the ignored, and rebalanceIgnored counts them at 0%): the
    /// ratio is taken again over all replicas, newRatio = ratio * running / (running + notRunning); within the tolerance
    /// or below 1 the count stays, otherwise ceil(newRatio * (running + notRunning)) = ceil(ratio * running), never fewer
    /// than now. Without this, replicas the cluster had no room for asked for more each cooldown, up to the maximum.
    /// </summary>
    [Theory]
    [InlineData(140.0, 4, 0, 8)]   // all Running: ceil(2 * 4)
    [InlineData(140.0, 2, 2, 4)]   // newRatio 2 * 2 / 4 = 1.0: within the tolerance (was ceil(2 * 4) = 8)
    [InlineData(140.0, 3, 1, 6)]   // newRatio 1.5: ceil(1.5 * 4) = ceil(2 * 3) = 6 (was 8)
    [InlineData(105.0, 2, 2, 4)]   // ratio 1.5 but newRatio 0.75: a change of direction keeps 4 (was 6)
    [InlineData(140.0, 1, 3, 4)]   // newRatio 0.5 (was 8)
    [InlineData(30.0, 2, 2, 2)]    // below target the seed's step, as before: 4 - 2
    public void Replicas_not_running_count_as_idle_on_a_scale_up(double utilization, int running, int notRunning, int expected)
    {
        Assert.Equal(expected, Autoscaler.DesiredReplicas(Spec, running + notRunning, utilization, running, notRunning));
        var decision = Autoscaler.Decide(Spec, running + notRunning, utilization, Now, lastScaleAt: null, notRunning: notRunning);
        Assert.Equal(expected, decision.Desired);
    }

    [Theory]
    [InlineData(140.0, null, "ScaledUp", 8)]
    [InlineData(140.0, 30.0, "ScaleCooldown", 4)]   // scale-up cooldown 60 s not over
    [InlineData(140.0, 61.0, "ScaledUp", 8)]
    [InlineData(30.0, 120.0, "ScaleCooldown", 4)]   // scale-down cooldown is 300 s
    [InlineData(30.0, 301.0, "ScaledDown", 2)]
    [InlineData(70.0, 1.0, "ScaleUnchanged", 4)]
    public void Cooldowns_hold_changes_back_per_direction(double utilization, double? secondsSinceLastScale, string reason, int desired)
    {
        DateTimeOffset? last = secondsSinceLastScale is { } s ? Now.AddSeconds(-s) : null;
        var decision = Autoscaler.Decide(Spec, current: 4, utilization, Now, last);
        Assert.Equal(reason, decision.Reason);
        Assert.Equal(desired, decision.Desired);
    }

    /// <summary>
    /// HPA's scale-down stabilization (horizontal.go stabilizeRecommendationWithBehaviors): the count goes down only to
    /// the highest recommendation within the window, here the scale-down cooldown; scale-ups are not held.
    /// </summary>
    [Theory]
    [InlineData(30.0, new[] { 4 }, "ScaleStabilized", 4)]  // asks 4 - 2 = 2, but 4 was recommended in the window
    [InlineData(30.0, new[] { 3, 2 }, "ScaledDown", 3)]    // down only to the window's highest, 3
    [InlineData(30.0, new int[0], "ScaledDown", 2)]        // nothing in the window: the seed's step
    [InlineData(140.0, new[] { 2 }, "ScaledUp", 8)]        // scale-ups are not held by lower recommendations
    public void A_scale_down_goes_no_lower_than_the_windows_highest_recommendation(double utilization, int[] recent, string reason, int desired)
    {
        var decision = Autoscaler.Decide(Spec, current: 4, utilization, Now, lastScaleAt: null, recent);
        Assert.Equal(reason, decision.Reason);
        Assert.Equal(desired, decision.Desired);
    }
}
