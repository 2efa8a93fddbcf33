using MasOrleans.Scheduling.Model;

namespace MasOrleans.Silo.Api;

// Request bodies. Field names and shapes follow Kubernetes; quantities are Kubernetes strings ("500m", "1Gi").
// A field a body's type does not have is a 400 naming it (SiloApp.ConfigureJson), not silently dropped.

internal sealed class NodeRequest
{
    public string? Name { get; init; }
    /// <summary>Quantity per resource name: cpu, memory, nvidia.com/gpu (whole devices), mas.io/disk-io, mas.io/network, ephemeral-storage; pods (count, default 110).</summary>
    public Dictionary<string, string>? Capacity { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
    public List<Taint>? Taints { get; init; }
    public bool Unschedulable { get; init; }
}

internal sealed class NodePatchRequest
{
    public Dictionary<string, string>? Labels { get; init; }
    public List<Taint>? Taints { get; init; }
    public bool? Unschedulable { get; init; }
}

internal sealed class TelemetryRequest
{
    /// <summary>Measured utilization 0..1 per resource name.</summary>
    public Dictionary<string, double>? Utilization { get; init; }
}

/// <summary>A pod without its name: the body of POST /pods (plus name) and a workload's template.</summary>
internal class PodTemplateRequest
{
    public Dictionary<string, string>? Requests { get; init; }
    /// <summary>
    /// Kubernetes' priority is int32 and this API takes -1e9..1e9 (Validation.MaxPriority); read as a long so a whole
    /// number beyond int32 is told that range, not that it is no whole number.
    /// </summary>
    public long? Priority { get; init; }
    /// <summary>Kubernetes' preemptionPolicy: "PreemptLowerPriority" (the default) or "Never" (wait, never evict).</summary>
    public string? PreemptionPolicy { get; init; }
    /// <summary>A policy from GET /api/v1/scheduler/policies; the cluster default when absent.</summary>
    public string? Policy { get; init; }
    public string? Image { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
    public Dictionary<string, string>? NodeSelector { get; init; }
    public Affinity? Affinity { get; init; }
    public List<Toleration>? Tolerations { get; init; }
    public List<TopologySpreadConstraint>? TopologySpreadConstraints { get; init; }
    /// <summary>How long the simulated container runs before the pod succeeds; absent means until deleted.</summary>
    public double? ExpectedDurationSeconds { get; init; }
    /// <summary>
    /// Kubernetes' activeDeadlineSeconds: once the container has run this long the pod is Failed (DeadlineExceeded) and its
    /// node room released; absent means no deadline. Read as a long so a whole number beyond the range is told the range.
    /// </summary>
    public long? ActiveDeadlineSeconds { get; init; }
}

internal sealed class PodRequest : PodTemplateRequest
{
    public string? Name { get; init; }
}

internal sealed class WorkloadRequest
{
    public string? Name { get; init; }
    public int? Replicas { get; init; }
    public PodTemplateRequest? Template { get; init; }
    /// <summary>Optional autoscaling (seed 001): replicas follow the CPU utilization of the nodes the pods run on.</summary>
    public AutoscaleRequest? Autoscale { get; init; }
}

internal sealed class AutoscaleRequest
{
    public int? MinReplicas { get; init; }
    public int? MaxReplicas { get; init; }
    /// <summary>Target CPU utilization in percent (1..100); default 70 as in seed 001.</summary>
    public double? TargetCpuUtilization { get; init; }
    public double? ScaleUpCooldownSeconds { get; init; }
    public double? ScaleDownCooldownSeconds { get; init; }
}

internal sealed class ScaleRequest
{
    public int? Replicas { get; init; }
}

internal sealed class PolicyRequest
{
    public string? Policy { get; init; }
}
