using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Workloads;

namespace MasOrleans.Grains.Tests;

/// <summary>Seed 001's formulas, decided on a fixed clock.</summary>
public sealed class AutoscalerTests
{
    private static readonly AutoscaleSpec Spec = new(MinReplicas: 2, MaxReplicas: 10, TargetCpuUtilization: 70, ScaleUpCooldownSeconds: 60, ScaleDownCooldownSeconds: 300);
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(4, 70.0, 4)]   // at target: ratio 1
    [InlineData(4, 140.0, 8)]  // ratio 2
    [InlineData(4, 100.0, 5)]  // 4 * 1.43 = 5.7, truncated as the seed's int()
    [InlineData(8, 200.0, 10)] // capped at max
    [InlineData(4, 60.0, 3)]   // below target: one step down
    [InlineData(4, 30.0, 2)]   // under half the target: two steps down
    [InlineData(3, 10.0, 2)]   // never below min
    public void Desired_replicas_follow_the_seed(int current, double utilization, int expected) =>
        Assert.Equal(expected, Autoscaler.DesiredReplicas(Spec, current, utilization));

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
}
