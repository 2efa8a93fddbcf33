using MasOrleans.Abstractions.Contracts;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Silo.Api;

internal sealed record NodeResponse(
    string Name,
    IReadOnlyDictionary<string, string> Capacity,
    IReadOnlyDictionary<string, string> Allocated,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<Taint> Taints,
    bool Unschedulable,
    bool Ready,
    IReadOnlyList<string> Pods,
    IReadOnlyList<GpuDeviceView> Gpus,
    IReadOnlyDictionary<string, double> Utilization,
    DateTimeOffset? LastTelemetry,
    IReadOnlyList<string>? Images = null,
    bool Draining = false)
{
    public static NodeResponse From(NodeView v) => new(
        v.Name, ShownCapacity(v.Spec), v.Allocated.ToQuantities(), v.Spec.Labels, v.Spec.Taints,
        v.Spec.Unschedulable, v.Ready, v.Pods.Select(p => p.Pod.Name).ToList(), GpuDevices(v), v.Utilization, v.LastTelemetry, v.Images, v.Draining);

    /// <summary>The capacity as registered: a pod count other than the default is shown with it (it is enforced, not a resource).</summary>
    private static IReadOnlyDictionary<string, string> ShownCapacity(NodeSpec spec)
    {
        var quantities = spec.Capacity.ToQuantities();
        if (spec.MaxPods != NodeSpec.DefaultMaxPods) quantities[NodeSpec.PodsResource] = spec.MaxPods.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return quantities;
    }

    /// <summary>Per GPU device: which pods hold how much of it.</summary>
    private static IReadOnlyList<GpuDeviceView> GpuDevices(NodeView v)
    {
        var devices = new GpuDeviceView[v.Spec.GpuDeviceCount];
        for (var g = 0; g < devices.Length; g++)
        {
            var holders = v.Pods.Where(p => p.Gpus.Devices.Contains(g))
                .Select(p => new GpuHolder(p.Pod.Name, p.Gpus.MilliPerDevice)).ToList();
            var used = holders.Sum(h => h.Milli);
            devices[g] = new GpuDeviceView(g, ClusterState.MilliPerGpu - used, used, holders);
        }
        return devices;
    }
}

internal sealed record GpuDeviceView(int Index, int FreeMilli, int AllocatedMilli, IReadOnlyList<GpuHolder> Pods);

internal sealed record GpuHolder(string Pod, int Milli);

internal sealed record PodResponse(
    string Name,
    PodPhase Phase,
    string? NodeName,
    IReadOnlyList<int> GpuDevices,
    int GpuMilliPerDevice,
    IReadOnlyDictionary<string, string> Requests,
    int Priority,
    string? Policy,
    string? ScheduledBy,
    string? Image,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string>? NodeSelector,
    IReadOnlyList<Toleration>? Tolerations,
    Affinity? Affinity,
    IReadOnlyList<TopologySpreadConstraint>? TopologySpreadConstraints,
    double? ExpectedDurationSeconds,
    IReadOnlyDictionary<string, long> Scores,
    IReadOnlyList<PodEvent> Events,
    string? Workload,
    DateTimeOffset CreatedAt,
    string? Reason = null,
    // Set through the Kubernetes API (kubectl annotate, apply); absent when the pod has none.
    IReadOnlyDictionary<string, string>? Annotations = null,
    // Shown only when it is Never, so the answers of pods that may preempt (nearly all) read as before.
    string? PreemptionPolicy = null,
    // The node a preemption is freeing for the waiting pod (kube's status.nominatedNodeName); absent otherwise.
    string? NominatedNodeName = null,
    // Kubernetes' activeDeadlineSeconds; absent when the pod has none.
    long? ActiveDeadlineSeconds = null)
{
    public static PodResponse From(PodView v) => new(
        v.Spec.Name, v.Phase, v.NodeName, v.Gpus.Devices, v.Gpus.MilliPerDevice, v.Spec.Requests.ToQuantities(), v.Spec.Priority,
        v.Spec.Policy, v.ScheduledBy, v.Spec.Image, v.Spec.Labels, v.Spec.NodeSelector, v.Spec.Tolerations, v.Spec.Affinity,
        v.Spec.TopologySpreadConstraints, v.Spec.ExpectedDurationSeconds, v.Scores, v.Events, v.Workload, v.CreatedAt, v.Reason, v.Annotations,
        v.Spec.PreemptionPolicy == global::MasOrleans.Scheduling.Model.PreemptionPolicy.Never ? nameof(global::MasOrleans.Scheduling.Model.PreemptionPolicy.Never) : null,
        v.NominatedNodeName, v.Spec.ActiveDeadlineSeconds);
}

/// <summary>A page of items; pass <see cref="Continue"/> as ?continue= for the next page.</summary>
internal sealed record ListResponse<T>(IReadOnlyList<T> Items, int Total, string? Continue);

internal sealed record WorkloadResponse(string Name, int Replicas, int ReadyReplicas, IReadOnlyList<PodEntry> Pods, int Unschedulable = 0, AutoscaleSpec? Autoscale = null)
{
    public static WorkloadResponse From(WorkloadView v) => new(v.Name, v.Replicas, v.ReadyReplicas, v.Pods, v.Unschedulable, v.Autoscale);
}

/// <summary>An object's events, oldest first (repeats folded with a count).</summary>
internal sealed record EventsResponse(string Kind, string Name, IReadOnlyList<PodEvent> Items);

internal sealed record PoliciesResponse(string DefaultPolicy, IReadOnlyList<PolicyInfo> Policies);

internal sealed record PolicyResponse(string Policy);

internal sealed record TelemetryAccepted(string Node, IReadOnlyDictionary<string, double> Utilization, DateTimeOffset At);
