using System.Globalization;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Traces;

/// <summary>
/// Builds a homogeneous cluster from a spec such as
/// <c>gen:count=64,cpu=96,memory=512Gi,gpu=8,network=100000,disk=2000Gi,model=A10</c>.
/// Keys: count (required), cpu (cores, Kubernetes quantity), memory, gpu (devices), network (Mbps),
/// disk (ephemeral storage), diskio (MB/s), model (GPU model label), prefix (node name prefix, default "gen-node").
/// Unknown keys and bad values are errors naming the key.
/// </summary>
public static class NodeGenerator
{
    public const string Prefix = "gen:";

    /// <summary>
    /// The most nodes a spec may generate: five times Kubernetes' 5,000-node scalability limit and beyond GKE's 65,000.
    /// The nodes are built before the replay starts, so count=2000000000 filled memory rather than refusing.
    /// </summary>
    public const int MaxCount = 100_000;

    public static bool IsSpec(string text) => text.StartsWith(Prefix, StringComparison.Ordinal);

    public static IReadOnlyList<NodeSpec> Generate(string spec)
    {
        if (!IsSpec(spec)) throw new FormatException($"node generator spec must start with '{Prefix}': {spec}");
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in spec[Prefix.Length..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0 || eq == part.Length - 1) throw new FormatException($"node generator: '{part}' is not key=value");
            var key = part[..eq];
            if (!Known.Contains(key)) throw new FormatException($"node generator: unknown key '{key}' (known: {string.Join(", ", Known)})");
            if (!pairs.TryAdd(key, part[(eq + 1)..])) throw new FormatException($"node generator: key '{key}' given twice");
        }
        if (!pairs.TryGetValue("count", out var countText) || !int.TryParse(countText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) || count is <= 0 or > MaxCount)
            throw new FormatException($"node generator: 'count' must be a positive integer up to {MaxCount}");

        Span<long> capacity = stackalloc long[ResourceNames.Count];
        capacity[(int)ResourceKind.Cpu] = Parse(pairs, "cpu", ResourceKind.Cpu);
        capacity[(int)ResourceKind.Memory] = Parse(pairs, "memory", ResourceKind.Memory);
        capacity[(int)ResourceKind.Network] = Parse(pairs, "network", ResourceKind.Network);
        capacity[(int)ResourceKind.EphemeralStorage] = Parse(pairs, "disk", ResourceKind.EphemeralStorage);
        capacity[(int)ResourceKind.DiskIo] = Parse(pairs, "diskio", ResourceKind.DiskIo);
        var gpus = pairs.TryGetValue("gpu", out var g) ? (int.TryParse(g, out var n) && n is >= 0 and <= 64 ? n : throw new FormatException($"node generator: gpu '{g}' must be a device count 0..64")) : 0;
        capacity[(int)ResourceKind.Gpu] = gpus * 1000L;
        var vector = new ResourceVector(capacity);
        var prefix = pairs.GetValueOrDefault("prefix", "gen-node");
        var model = pairs.GetValueOrDefault("model");
        var width = Math.Max(4, count.ToString(CultureInfo.InvariantCulture).Length);
        return Enumerable.Range(0, count).Select(i =>
        {
            var name = $"{prefix}-{i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0')}";
            var labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name };
            if (model is not null && gpus > 0) labels[ResourceNames.GpuProductLabel] = model;
            return new NodeSpec { Name = name, Capacity = vector, Labels = labels };
        }).ToList();
    }

    private static readonly string[] Known = ["count", "cpu", "memory", "gpu", "network", "disk", "diskio", "model", "prefix"];

    private static long Parse(Dictionary<string, string> pairs, string key, ResourceKind kind)
    {
        if (!pairs.TryGetValue(key, out var text)) return 0;
        return Quantity.TryParse(kind, text, out var stored) && stored >= 0
            ? stored
            : throw new FormatException($"node generator: '{text}' is not a valid quantity for '{key}'");
    }
}
