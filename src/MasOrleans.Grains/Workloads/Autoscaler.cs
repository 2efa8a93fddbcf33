using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Workloads;

/// <summary>What the autoscaler decided in one pass, with the reason for the workload's events.</summary>
public sealed record ScalingDecision(int Desired, string Reason, string Message)
{
    public bool Changes(int current) => Desired != current;
}

/// <summary>
/// Seed 001's AutoScaler (_calculate_desired_replicas and _should_scale): below target it steps down by 2 when
/// utilization is under half the target and by 1 otherwise; at or above target it scales by the ratio
/// utilization / target (truncated, as the seed's int()); always within [min, max]; a change in either direction
/// waits for that direction's cooldown since the last change. Plain logic, so tests can drive it with any clock.
/// </summary>
public static class Autoscaler
{
    public static int DesiredReplicas(AutoscaleSpec spec, int current, double cpuUtilizationPercent)
    {
        int desired;
        if (cpuUtilizationPercent < spec.TargetCpuUtilization)
            desired = Math.Max(spec.MinReplicas, current - (cpuUtilizationPercent < spec.TargetCpuUtilization * 0.5 ? 2 : 1));
        else
            desired = Math.Min(spec.MaxReplicas, (int)(current * (cpuUtilizationPercent / spec.TargetCpuUtilization)));
        return Math.Clamp(desired, spec.MinReplicas, spec.MaxReplicas);
    }

    public static ScalingDecision Decide(AutoscaleSpec spec, int current, double cpuUtilizationPercent, DateTimeOffset now, DateTimeOffset? lastScaleAt)
    {
        var desired = DesiredReplicas(spec, current, cpuUtilizationPercent);
        var metric = $"cpu {cpuUtilizationPercent:0.#}% vs target {spec.TargetCpuUtilization:0.#}%";
        if (desired == current) return new ScalingDecision(current, "ScaleUnchanged", $"{metric}: keeping {current} replica(s)");
        var up = desired > current;
        var cooldown = TimeSpan.FromSeconds(up ? spec.ScaleUpCooldownSeconds : spec.ScaleDownCooldownSeconds);
        if (lastScaleAt is { } last && now - last < cooldown)
            return new ScalingDecision(current, "ScaleCooldown",
                $"{metric} asks for {desired} replica(s) but the {(up ? "scale-up" : "scale-down")} cooldown of {cooldown.TotalSeconds:0.#} s has {(cooldown - (now - last)).TotalSeconds:0.#} s left");
        return new ScalingDecision(desired, up ? "ScaledUp" : "ScaledDown", $"{metric}: {current} -> {desired} replica(s)");
    }
}
