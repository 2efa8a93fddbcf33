using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Grains.Workloads;

/// <summary>What the autoscaler decided in one pass, with the reason for the workload's events.</summary>
public sealed record ScalingDecision(int Desired, string Reason, string Message)
{
    public bool Changes(int current) => Desired != current;
}

/// <summary>
/// Seed 001's AutoScaler (_calculate_desired_replicas and _should_scale) with HPA's arithmetic where the seed's cannot
/// scale: below target it steps down by 2 when utilization is under half the target and by 1 otherwise; above target it
/// scales by the ratio utilization / target rounded up, as HPA does (pkg/controller/podautoscaler/replica_calculator.go:
/// ceil(usageRatio * readyPodCount)); the seed's int() truncation kept 1 replica at any utilization under twice the
/// target and 2 under 1.5 times it, which node CPU (at most 100%) never reaches at the default 70% target. Within HPA's
/// default tolerance of 10% of the target (|1 - ratio| &lt;= 0.1) nothing changes, so readings hovering at the target
/// do not step the count down and up. Always within [min, max]; a change in either direction waits for that
/// direction's cooldown since the last change, and a scale-down also goes no lower than the highest recommendation
/// within the scale-down cooldown before it (HPA's 300 s stabilization window). Plain logic, so tests can drive it with
/// any clock.
/// </summary>
public static class Autoscaler
{
    /// <summary>HPA's default --horizontal-pod-autoscaler-tolerance.</summary>
    public const double Tolerance = 0.1;

    public static int DesiredReplicas(AutoscaleSpec spec, int current, double cpuUtilizationPercent) =>
        DesiredReplicas(spec, current, cpuUtilizationPercent, running: current, notRunning: 0);

    /// <param name="running">Replicas Running, whose nodes gave <paramref name="cpuUtilizationPercent"/>.</param>
    /// <param name="notRunning">Replicas not Running yet (Pending, Unschedulable): as HPA does on a scale-up
    /// (replica_calculator.go GetResourceReplicas: groupPods ignores Pending pods, rebalanceIgnored counts them at 0%),
    /// they count as using nothing, so replicas that cannot be placed do not ask for more each cooldown until the maximum.</param>
    public static int DesiredReplicas(AutoscaleSpec spec, int current, double cpuUtilizationPercent, int running, int notRunning)
    {
        var ratio = cpuUtilizationPercent / spec.TargetCpuUtilization;
        int desired;
        if (notRunning > 0 && ratio > 1)
        {
            // The new ratio over running + notRunning replicas; a change of direction or one within the tolerance keeps
            // the count, and so does fewer than now. ceil(newRatio * (running + notRunning)) is ceil(ratio * running).
            var rebalanced = ratio * running / (running + notRunning);
            desired = Math.Abs(1 - rebalanced) <= Tolerance || rebalanced < 1 ? current : Math.Max(current, (int)Math.Ceiling(ratio * running));
        }
        else if (Math.Abs(1 - ratio) <= Tolerance) desired = current;
        else if (ratio < 1) desired = current - (ratio < 0.5 ? 2 : 1);
        else desired = (int)Math.Ceiling(current * ratio);
        return Math.Clamp(desired, spec.MinReplicas, spec.MaxReplicas);
    }

    /// <param name="recent">The unstabilized recommendations of the scale-down window before this one (HPA's
    /// stabilization, pkg/controller/podautoscaler/horizontal.go stabilizeRecommendationWithBehaviors): a scale-down goes
    /// only as low as the highest of them, so one low reading among high ones does not remove replicas.</param>
    /// <param name="notRunning">Replicas not Running yet, as <see cref="DesiredReplicas(AutoscaleSpec, int, double, int, int)"/> counts them.</param>
    public static ScalingDecision Decide(AutoscaleSpec spec, int current, double cpuUtilizationPercent, DateTimeOffset now, DateTimeOffset? lastScaleAt,
        IReadOnlyList<int>? recent = null, int notRunning = 0)
    {
        var recommended = DesiredReplicas(spec, current, cpuUtilizationPercent, current - notRunning, notRunning);
        var metric = $"cpu {cpuUtilizationPercent:0.#}% vs target {spec.TargetCpuUtilization:0.#}%";
        var desired = recommended < current && recent is { Count: > 0 } ? Math.Min(current, Math.Max(recommended, recent.Max())) : recommended;
        if (desired == current)
            return recommended == current
                ? new ScalingDecision(current, "ScaleUnchanged", $"{metric}: keeping {current} replica(s)")
                : new ScalingDecision(current, "ScaleStabilized",
                    $"{metric} asks for {recommended} replica(s) but {current} were recommended within the {spec.ScaleDownCooldownSeconds:0.#} s scale-down window");
        var up = desired > current;
        var cooldown = TimeSpan.FromSeconds(up ? spec.ScaleUpCooldownSeconds : spec.ScaleDownCooldownSeconds);
        if (lastScaleAt is { } last && now - last < cooldown)
            return new ScalingDecision(current, "ScaleCooldown",
                $"{metric} asks for {desired} replica(s) but the {(up ? "scale-up" : "scale-down")} cooldown of {cooldown.TotalSeconds:0.#} s has {(cooldown - (now - last)).TotalSeconds:0.#} s left");
        return new ScalingDecision(desired, up ? "ScaledUp" : "ScaledDown", $"{metric}: {current} -> {desired} replica(s)");
    }
}
