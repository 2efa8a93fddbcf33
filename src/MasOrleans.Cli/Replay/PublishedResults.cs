namespace MasOrleans.Cli.Replay;

/// <summary>
/// The FGD paper's published GPU allocation (mean of 10 seeds) and fragmentation on the openb traces
/// (Weng et al., ATC'23; also /work/shared/traces/README.md), keyed by trace name and our policy names.
/// </summary>
internal static class PublishedResults
{
    private static readonly string[] Policies = ["random", "dotprod", "gpu-clustering", "gpu-packing", "best-fit", "fgd"];

    private static readonly Dictionary<string, double[]> At130 = new(StringComparer.Ordinal)
    {
        ["default"] = [87.47, 90.85, 91.88, 92.00, 93.08, 95.39],
        ["cpu050"] = [91.24, 93.27, 93.79, 93.72, 93.79, 95.21],
        ["gpushare40"] = [86.00, 89.56, 90.02, 90.03, 91.69, 94.15],
        ["multigpu20"] = [88.69, 92.06, 93.56, 93.71, 93.93, 95.65],
        ["gpuspec10"] = [87.43, 90.39, 92.18, 92.46, 93.30, 94.95],
    };

    private static readonly double[] DefaultAt100 = [86.30, 90.62, 91.65, 91.78, 92.86, 95.23];
    private static readonly double[] DefaultFragmentationAt80 = [15.9, 10.1, 9.4, 9.3, 8.3, 6.0];

    /// <summary>"default" for openb_pod_list_default.csv and so on; null for other traces.</summary>
    public static string? TraceKey(string podsPath)
    {
        var name = Path.GetFileNameWithoutExtension(podsPath);
        const string prefix = "openb_pod_list_";
        return name.StartsWith(prefix, StringComparison.Ordinal) && At130.ContainsKey(name[prefix.Length..]) ? name[prefix.Length..] : null;
    }

    public static double? AllocAt130(string? trace, string policy) => Lookup(trace is null ? null : At130.GetValueOrDefault(trace), policy);
    public static double? AllocAt100(string? trace, string policy) => trace == "default" ? Lookup(DefaultAt100, policy) : null;
    public static double? FragmentationAt80(string? trace, string policy) => trace == "default" ? Lookup(DefaultFragmentationAt80, policy) : null;

    private static double? Lookup(double[]? values, string policy)
    {
        var i = Array.IndexOf(Policies, policy.ToLowerInvariant());
        return values is null || i < 0 ? null : values[i];
    }
}
