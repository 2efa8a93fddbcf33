using System.Globalization;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Silo.Configuration;

/// <summary>Bound from "Limits": request body size and bounds on what a request may ask for.</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Kestrel's MaxRequestBodySize for the public routes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Entries in any list or map of a request (labels, taints, tolerations, terms, values...).</summary>
    public int MaxListItems { get; set; } = 64;

    /// <summary>Longest image reference accepted.</summary>
    public int MaxImageLength { get; set; } = 1024;

    /// <summary>Largest quantity per resource, for node capacity and pod requests; keyed by resource name or kind (cpu, memory, gpu...).</summary>
    public Dictionary<string, string> MaxQuantity { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<ResourceKind, string> Defaults = new()
    {
        [ResourceKind.Cpu] = "16384",
        [ResourceKind.Memory] = "64Ti",
        [ResourceKind.Gpu] = "64",
        [ResourceKind.DiskIo] = "1000000",
        [ResourceKind.Network] = "10000000",
        [ResourceKind.EphemeralStorage] = "1Pi",
    };

    /// <summary>The effective maximum per resource in stored units, or an error naming the bad entry.</summary>
    public bool TryResolveMaxima(out long[] maxima, out string? error)
    {
        maxima = new long[ResourceNames.Count];
        error = null;
        foreach (var kind in ResourceNames.All)
        {
            maxima[(int)kind] = Quantity.Parse(kind, Defaults[kind]);
        }
        foreach (var (key, text) in MaxQuantity)
        {
            if (!TryKind(key, out var kind)) { error = $"Limits__MaxQuantity__{key} is not a resource (use {string.Join(", ", ResourceNames.All.Select(ResourceNames.NameOf))})"; return false; }
            if (!Quantity.TryParse(kind, text, out var stored) || stored <= 0) { error = $"Limits__MaxQuantity__{key} '{text}' is not a positive quantity"; return false; }
            maxima[(int)kind] = stored;
        }
        return true;
    }

    private static bool TryKind(string key, out ResourceKind kind) =>
        ResourceNames.TryParse(key, out kind) || Enum.TryParse(key, ignoreCase: true, out kind) && Enum.IsDefined(kind);
}

/// <summary>Bound from "RateLimiting": a fixed window per API key (or client IP without one) on /api and /dashboard.</summary>
internal sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public bool Enabled { get; set; } = true;
    public int PermitLimit { get; set; } = 1000;
    public double WindowSeconds { get; set; } = 1;

    /// <summary>
    /// A window must be longer than zero: below a tick (0.0000001 s) TimeSpan.FromSeconds makes it zero, which
    /// NextPermitWindowLimiter refuses as it is made, for every request (each a 500). A millisecond is a round floor above
    /// that. A short window costs nothing (the limiter runs no timer); it only limits little, each window ending before
    /// most callers come back, and a refusal is still told at least 1 s (Retry-After counts whole seconds).
    /// </summary>
    public const double MinWindowSeconds = 0.001;
    public const double MaxWindowSeconds = 3600;

    public IEnumerable<string> Problems()
    {
        const string off = " (or set RateLimiting__Enabled=false)";
        if (PermitLimit < 1) yield return $"RateLimiting__PermitLimit must be at least 1, not {PermitLimit}{off}";
        if (!(WindowSeconds is >= MinWindowSeconds and <= MaxWindowSeconds))
            yield return string.Create(CultureInfo.InvariantCulture, $"RateLimiting__WindowSeconds must be at least {MinWindowSeconds} and at most {MaxWindowSeconds}, not {WindowSeconds}{off}");
    }
}
