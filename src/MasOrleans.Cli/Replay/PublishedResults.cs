using MasOrleans.Scheduling.Replay;

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

    /// <summary>The paper's cluster, data/traces/openb/openb_node_list_gpu_node.csv (1,213 GPU nodes), by its SHA-256.</summary>
    private const string PaperNodeListSha256 = "2beca64b4d3dfa342036a34b56a495c6cef9225db836c81f541282cb1df320b5";

    /// <summary>The paper's traces in data/traces/openb (openb_pod_list_NAME.csv), by their SHA-256 (sha256sum).</summary>
    private static readonly Dictionary<string, string> TraceBySha256 = new(StringComparer.Ordinal)
    {
        ["1ee7ed79c27a3b0861cda8ddba86a004c6aba904caafa329a76ae93ca63834a8"] = "default",
        ["747f43247bffc2b0bb081d7f61f0705ca8d390dafc0b647e642c92f3baf3ba1e"] = "cpu050",
        ["d83ce79a4eb6987524bedbb0c65e41aed3a36bf6c1b78b86234c3687a07e1d40"] = "gpushare40",
        ["d9ec6f6c74fb980cc0b81239470c6353fceea077ea9abd610003b604c7cc2b01"] = "multigpu20",
        ["2dc7e4cb9480484f08539720b433a9ec9ab5d76b396f3f7557c53a2ff78a7611"] = "gpuspec10",
    };

    /// <summary>
    /// The paper trace this run repeats the paper's experiment on ("default", ...), or null when it does not: the figures
    /// hold for the paper's trace on its cluster (by content, not by file name), paper mode at tune 1.3, and its policies
    /// with no --set, and beside anything else they would read as a comparison they are not.
    /// </summary>
    public static string? TraceKey(RunProvenance provenance, ReplayMode mode, double tune)
    {
        string? Hash(string option) => provenance.Inputs.FirstOrDefault(i => i.Option == option)?.Sha256;
        if (mode != ReplayMode.Paper || Math.Abs(tune - 1.3) > 1e-9 || provenance.PolicySettings.Count > 0) return null;
        if (Hash("--nodes") != PaperNodeListSha256) return null;
        return Hash("--pods") is { } pods ? TraceBySha256.GetValueOrDefault(pods) : null;
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
