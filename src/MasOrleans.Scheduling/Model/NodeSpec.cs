using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Model;

/// <summary>A node's static description. GPUs are devices of 1000 milli each; capacity's GPU dimension is their sum.</summary>
public sealed record NodeSpec
{
    public required string Name { get; init; }
    public ResourceVector Capacity { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = PodSpec.Empty;
    public IReadOnlyList<Taint> Taints { get; init; } = [];
    public bool Unschedulable { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public int GpuDeviceCount => (int)(Capacity.GpuMilli / 1000);

    /// <summary>The GPU model, from the label NVIDIA's GPU feature discovery sets.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? GpuModel => Labels.TryGetValue(ResourceNames.GpuProductLabel, out var m) ? m : null;
}

/// <summary>Which devices a pod holds on its node and how much of each.</summary>
public sealed record GpuAllocation(IReadOnlyList<int> Devices, int MilliPerDevice)
{
    public static readonly GpuAllocation None = new([], 0);
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsNone => Devices.Count == 0;
}
