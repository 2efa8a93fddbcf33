using MasOrleans.Scheduling.Cluster;
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
    /// <summary>
    /// The format each capacity quantity was written in on the Kubernetes surface, which serves the node in it as the API
    /// server would; null (the REST API, a node stored before formats were kept) when unknown. Not read by scheduling.
    /// </summary>
    public IReadOnlyDictionary<string, QuantityFormat>? CapacityFormats { get; init; }
    /// <summary>
    /// Capacity of resources MasOrleans does not model (example.com/foo, hugepages-2Mi), as canonical Kubernetes
    /// quantities: kept and served on the Kubernetes surface as a kubelet reported them, never scheduled on. Null: none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? UnmodeledCapacity { get; init; }

    /// <summary>
    /// The node's `pods` allocatable: NodeResourcesFit rejects a pod when the node already runs this many
    /// ("Too many pods"). Kubernetes' kubelet default (maxPods) is 110.
    /// </summary>
    public int MaxPods { get; init; } = DefaultMaxPods;

    public const int DefaultMaxPods = 110;

    /// <summary>Kubernetes' resource name for a node's pod capacity.</summary>
    public const string PodsResource = "pods";

    /// <summary>
    /// A Kubernetes capacity map ({"cpu": "8", "pods": "250"}): the resources, and the `pods` entry (a whole,
    /// positive number; absent = <see cref="DefaultMaxPods"/>) which is a count, not a resource dimension.
    /// </summary>
    public static bool TryParseCapacity(IReadOnlyDictionary<string, string>? quantities, out ResourceVector capacity, out int maxPods, out string? error)
    {
        maxPods = DefaultMaxPods;
        capacity = default;
        if (quantities is not null && quantities.TryGetValue(PodsResource, out var pods))
        {
            if (!Quantity.TryParse(pods, out var value) || value != decimal.Truncate(value) || value < 1 || value > int.MaxValue)
            {
                error = $"'{pods}' is not a valid pod count for resource '{PodsResource}' (a whole number of at least 1)";
                return false;
            }
            maxPods = (int)value;
            quantities = quantities.Where(kv => kv.Key != PodsResource).ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        return ResourceVector.TryParse(quantities, out capacity, out error);
    }

    [System.Text.Json.Serialization.JsonIgnore]
    public int GpuDeviceCount => (int)(Capacity.GpuMilli / ClusterState.MilliPerGpu);

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
