namespace MasOrleans.Scheduling.Resources;

/// <summary>The resource dimensions every node and pod carries. The order is the index into flat arrays.</summary>
public enum ResourceKind
{
    Cpu = 0,
    Memory = 1,
    Gpu = 2,
    DiskIo = 3,
    Network = 4,
    EphemeralStorage = 5,
}

/// <summary>Kubernetes-style names of the dimensions and the unit each is stored in.</summary>
public static class ResourceNames
{
    public const int Count = 6;

    public const string Cpu = "cpu";
    public const string Memory = "memory";
    public const string Gpu = "nvidia.com/gpu";
    public const string DiskIo = "mas.io/disk-io";
    public const string Network = "mas.io/network";
    public const string EphemeralStorage = "ephemeral-storage";

    /// <summary>The label NVIDIA's GPU feature discovery sets to a node's GPU model.</summary>
    public const string GpuProductLabel = "nvidia.com/gpu.product";

    public static readonly IReadOnlyList<ResourceKind> All =
        [ResourceKind.Cpu, ResourceKind.Memory, ResourceKind.Gpu, ResourceKind.DiskIo, ResourceKind.Network, ResourceKind.EphemeralStorage];

    public static string NameOf(ResourceKind kind) => kind switch
    {
        ResourceKind.Cpu => Cpu,
        ResourceKind.Memory => Memory,
        ResourceKind.Gpu => Gpu,
        ResourceKind.DiskIo => DiskIo,
        ResourceKind.Network => Network,
        ResourceKind.EphemeralStorage => EphemeralStorage,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>What a name that is none of these is told, with the names there are ("gpu" is "nvidia.com/gpu").</summary>
    public static string Unknown(string name) => $"unknown resource '{name}' (known: {string.Join(", ", All.Select(NameOf))})";

    public static bool TryParse(string name, out ResourceKind kind)
    {
        switch (name)
        {
            case Cpu: kind = ResourceKind.Cpu; return true;
            case Memory: kind = ResourceKind.Memory; return true;
            case Gpu: kind = ResourceKind.Gpu; return true;
            case DiskIo: kind = ResourceKind.DiskIo; return true;
            case Network: kind = ResourceKind.Network; return true;
            case EphemeralStorage: kind = ResourceKind.EphemeralStorage; return true;
            default: kind = default; return false;
        }
    }

    /// <summary>
    /// Counted dimensions (cpu, GPUs, MB/s, Mbps) are stored in thousandths so "500m" is exact;
    /// byte dimensions (memory, ephemeral storage) are stored in bytes, as Kubernetes does.
    /// </summary>
    public static bool IsStoredInMilli(ResourceKind kind) => kind is not (ResourceKind.Memory or ResourceKind.EphemeralStorage);
}
