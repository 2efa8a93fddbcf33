using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Abstractions;

// Orleans' own encoding for the core records a pod's path sends between silos on every placement: the pod in a
// creation and a reservation (PodSpec), the devices it got (GpuAllocation), and the bound pod in each node change
// (BoundPod). Without these they would cross as System.Text.Json plus each value's type name (MasJson's fallback,
// measured at about 5% of a two-silo cluster's CPU in session 14). The core keeps no Orleans dependency: the
// surrogates live here. The rarer parts of a pod (affinity, tolerations, spreading, owner) still fall back to JSON.
// Registered copiers win over these (Orleans' CodecProvider), so within a silo the instances still pass as they are.

[GenerateSerializer, Immutable, Alias("mas.resources")]
public readonly struct ResourceVectorSurrogate(long[] values)
{
    /// <summary>One amount per <see cref="ResourceKind"/>, in the core's stored units.</summary>
    [Id(0)] public readonly long[] Values = values;
}

[RegisterConverter]
public sealed class ResourceVectorSurrogateConverter : IConverter<ResourceVector, ResourceVectorSurrogate>
{
    public ResourceVector ConvertFromSurrogate(in ResourceVectorSurrogate surrogate) =>
        surrogate.Values is { Length: > 0 } values ? new ResourceVector(values) : ResourceVector.Zero;

    public ResourceVectorSurrogate ConvertToSurrogate(in ResourceVector value) => new(value == ResourceVector.Zero ? [] : value.ToArray());
}

[GenerateSerializer, Immutable, Alias("mas.gpus")]
public readonly struct GpuAllocationSurrogate(int[] devices, int milliPerDevice)
{
    [Id(0)] public readonly int[] Devices = devices;
    [Id(1)] public readonly int MilliPerDevice = milliPerDevice;
}

[RegisterConverter]
public sealed class GpuAllocationSurrogateConverter : IConverter<GpuAllocation, GpuAllocationSurrogate>
{
    public GpuAllocation ConvertFromSurrogate(in GpuAllocationSurrogate surrogate) =>
        surrogate.Devices is not { Length: > 0 } && surrogate.MilliPerDevice == 0 ? GpuAllocation.None : new(surrogate.Devices ?? [], surrogate.MilliPerDevice);

    public GpuAllocationSurrogate ConvertToSurrogate(in GpuAllocation value) =>
        new(value.Devices as int[] ?? [.. value.Devices ?? []], value.MilliPerDevice);
}

[GenerateSerializer, Immutable, Alias("mas.bound-pod")]
public readonly struct BoundPodSurrogate(PodSpec pod, GpuAllocation gpus, DateTimeOffset? boundAt)
{
    [Id(0)] public readonly PodSpec Pod = pod;
    [Id(1)] public readonly GpuAllocation Gpus = gpus;
    [Id(2)] public readonly DateTimeOffset? BoundAt = boundAt;
}

[RegisterConverter]
public sealed class BoundPodSurrogateConverter : IConverter<BoundPod, BoundPodSurrogate>
{
    public BoundPod ConvertFromSurrogate(in BoundPodSurrogate surrogate) => new(surrogate.Pod, surrogate.Gpus, surrogate.BoundAt);

    public BoundPodSurrogate ConvertToSurrogate(in BoundPod value) => new(value.Pod, value.Gpus, value.BoundAt);
}

/// <summary>Every property of <see cref="PodSpec"/>; CoreSurrogateTests fails when one is added to the record and not here.</summary>
[GenerateSerializer, Immutable, Alias("mas.pod-spec")]
public struct PodSpecSurrogate
{
    [Id(0)] public string Name;
    [Id(1)] public string Namespace;
    [Id(2)] public ResourceVector Requests;
    [Id(3)] public int Priority;
    [Id(4)] public string? Policy;
    [Id(5)] public string? Image;
    [Id(6)] public Dictionary<string, string>? Labels;
    [Id(7)] public Dictionary<string, string>? NodeSelector;
    [Id(8)] public Affinity? Affinity;
    [Id(9)] public Toleration[]? Tolerations;
    [Id(10)] public TopologySpreadConstraint[]? TopologySpreadConstraints;
    [Id(11)] public double? ExpectedDurationSeconds;
    [Id(12)] public string? NodeName;
    [Id(13)] public PodOwner? Owner;
    [Id(14)] public PreemptionPolicy PreemptionPolicy;
    [Id(15)] public DateTimeOffset? CreatedAt;
    [Id(16)] public Dictionary<string, QuantityFormat>? RequestFormats;
    [Id(17)] public Dictionary<string, string>? Limits;
    [Id(18)] public string[]? ZeroRequests;
    [Id(19)] public string? Uid;
    [Id(20)] public long? ActiveDeadlineSeconds;
}

[RegisterConverter]
public sealed class PodSpecSurrogateConverter : IConverter<PodSpec, PodSpecSurrogate>
{
    public PodSpec ConvertFromSurrogate(in PodSpecSurrogate surrogate) => new()
    {
        Name = surrogate.Name,
        Namespace = surrogate.Namespace ?? "default",
        Requests = surrogate.Requests,
        Priority = surrogate.Priority,
        Policy = surrogate.Policy,
        Image = surrogate.Image,
        Labels = surrogate.Labels is { Count: > 0 } labels ? labels : PodSpec.Empty,
        NodeSelector = surrogate.NodeSelector,
        Affinity = surrogate.Affinity,
        Tolerations = surrogate.Tolerations,
        TopologySpreadConstraints = surrogate.TopologySpreadConstraints,
        ExpectedDurationSeconds = surrogate.ExpectedDurationSeconds,
        NodeName = surrogate.NodeName,
        Owner = surrogate.Owner,
        PreemptionPolicy = surrogate.PreemptionPolicy,
        CreatedAt = surrogate.CreatedAt,
        RequestFormats = surrogate.RequestFormats,
        Limits = surrogate.Limits,
        ZeroRequests = surrogate.ZeroRequests,
        Uid = surrogate.Uid,
        ActiveDeadlineSeconds = surrogate.ActiveDeadlineSeconds,
    };

    public PodSpecSurrogate ConvertToSurrogate(in PodSpec value) => new()
    {
        Name = value.Name,
        Namespace = value.Namespace,
        Requests = value.Requests,
        Priority = value.Priority,
        Policy = value.Policy,
        Image = value.Image,
        Labels = value.Labels is not { Count: > 0 } ? null : Plain(value.Labels),
        NodeSelector = value.NodeSelector is null ? null : Plain(value.NodeSelector),
        Affinity = value.Affinity,
        Tolerations = value.Tolerations is null ? null : [.. value.Tolerations],
        TopologySpreadConstraints = value.TopologySpreadConstraints is null ? null : [.. value.TopologySpreadConstraints],
        ExpectedDurationSeconds = value.ExpectedDurationSeconds,
        NodeName = value.NodeName,
        Owner = value.Owner,
        PreemptionPolicy = value.PreemptionPolicy,
        CreatedAt = value.CreatedAt,
        RequestFormats = value.RequestFormats is null ? null : Plain(value.RequestFormats),
        Limits = value.Limits is null ? null : Plain(value.Limits),
        ZeroRequests = value.ZeroRequests is null ? null : value.ZeroRequests as string[] ?? [.. value.ZeroRequests],
        Uid = value.Uid,
        ActiveDeadlineSeconds = value.ActiveDeadlineSeconds,
    };

    /// <summary>The dictionary itself when it is a plain one with the default comparer (nearly always), else a copy.</summary>
    private static Dictionary<string, TValue> Plain<TValue>(IReadOnlyDictionary<string, TValue> source) =>
        source is Dictionary<string, TValue> d && d.Comparer == EqualityComparer<string>.Default ? d : new(source);
}
